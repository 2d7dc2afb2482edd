package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc: fixed at 100 by the Linux ABI, whatever
// the kernel's own tick rate.
const userHZ = 100

// cpuTimes are CPU readings at one moment: a process's own user+system time and the
// machine's busy and total time over all CPUs, all from /proc.
type cpuTimes struct {
	process              time.Duration
	machineBusy, machine time.Duration
}

// readCPU reads pid's CPU time (0 for this process) and the machine's.
func readCPU(pid int) (cpuTimes, error) {
	var c cpuTimes
	name := "self"
	if pid != 0 {
		name = strconv.Itoa(pid)
	}
	stat, err := os.ReadFile(filepath.Join("/proc", name, "stat"))
	if err != nil {
		return c, err
	}
	// Fields after the command name (in parentheses, which may hold spaces): utime and
	// stime are the 12th and 13th of them.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return c, fmt.Errorf("short /proc/%s/stat", name)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return c, fmt.Errorf("unreadable /proc/%s/stat", name)
	}
	c.process = ticks(utime + stime)

	all, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c, err
	}
	line, _, _ := strings.Cut(string(all), "\n")
	fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var total, idle int64
	for i, v := range fields[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return c, fmt.Errorf("unreadable /proc/stat: %w", err)
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	c.machine, c.machineBusy = ticks(total), ticks(total-idle)
	return c, nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// cpuUse is CPU use over a window.
type cpuUse struct {
	Process time.Duration // CPU time the process used
	Busy    float64       // fraction of the machine's CPU time that was busy, 0 to 1
}

func (c cpuTimes) since(before cpuTimes) cpuUse {
	return cpuUse{
		Process: c.process - before.process,
		Busy:    ratio(float64(c.machineBusy-before.machineBusy), float64(c.machine-before.machine)),
	}
}
