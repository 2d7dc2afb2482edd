package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPUModel  string
	CPUs      int // what nproc prints: the CPUs this process may use
	MemoryGiB float64
	GoVersion string
	OS        string
	Kernel    string
}

func (m Machine) String() string {
	return fmt.Sprintf("%s, %d CPUs (nproc), %.1f GiB memory, %s, %s %s",
		m.CPUModel, m.CPUs, m.MemoryGiB, m.GoVersion, m.OS, m.Kernel)
}

func describeMachine() Machine {
	m := Machine{
		CPUModel:  "unknown CPU",
		CPUs:      runtime.NumCPU(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS + "/" + runtime.GOARCH,
	}
	if v := procField("/proc/cpuinfo", "model name", ":"); v != "" {
		m.CPUModel = v
	}
	if v := procField("/proc/meminfo", "MemTotal", ":"); v != "" {
		if kb, err := strconv.ParseFloat(strings.Fields(v)[0], 64); err == nil {
			m.MemoryGiB = kb / (1 << 20)
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the value of the first "key<sep> value" line of a /proc file.
func procField(path, key, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
