// Command bench is `make bench`: on the embedded control plane, in one run, it measures
// raw exec throughput, the operator's probe throughput, schedule fidelity, API writes per
// probe, memory per idle target and start-up time, prints the table and writes
// BENCHMARKS.md. See internal/bench.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/dockprobe/dockprobe/internal/bench"
	"github.com/dockprobe/dockprobe/internal/devcluster"
)

func main() {
	var o bench.Options
	out := flag.String("out", "", "where to write the report (default <repository>/BENCHMARKS.md; - for none)")
	flag.StringVar(&o.Dir, "dir", "", "scratch directory, kept afterwards (default a temporary one, removed)")
	flag.Func("raw-in-flight", "raw exec levels, comma-separated (default 1,8,32)", intList(&o.RawInFlight))
	flag.DurationVar(&o.RawWindow, "raw-window", 0, "duration of each raw exec level (default 10s)")
	flag.IntVar(&o.MaxInFlight, "max-in-flight", 0, "the operator's cap on execs in flight (default: its own, 32)")
	flag.IntVar(&o.ThroughputTargets, "throughput-targets", 0, "targets of the throughput measure (default 200)")
	flag.DurationVar(&o.ThroughputInterval, "throughput-interval", 0, "their interval (default 100ms)")
	flag.DurationVar(&o.ThroughputWindow, "throughput-window", 0, "measurement window (default 20s)")
	flag.IntVar(&o.FidelityTargets, "fidelity-targets", 0, "targets of the schedule fidelity measure (default 1000)")
	flag.IntVar(&o.FidelityPerCheck, "fidelity-per-check", 0, "targets per HealthCheck there (default 200)")
	flag.DurationVar(&o.FidelityInterval, "fidelity-interval", 0, "their interval (default 20s)")
	flag.DurationVar(&o.FidelityWindow, "fidelity-window", 0, "measurement window (default 80s)")
	flag.IntVar(&o.FlapTargets, "flap-targets", 0, "flapping targets (default 50)")
	flag.DurationVar(&o.FlapWindow, "flap-window", 0, "measurement window (default 20s)")
	flag.Func("memory-targets", "idle target counts for memory, ascending, comma-separated (default 1000,10000)", intList(&o.MemoryTargets))
	flag.IntVar(&o.MemoryPerCheck, "memory-per-check", 0, "idle targets per HealthCheck (default 1000)")
	verbose := flag.Bool("v", false, "debug logs")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctrl.SetLogger(log)
	klog.SetLogger(log)
	o.Logger = log

	if err := run(o, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o bench.Options, out string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if out == "" {
		root, err := devcluster.RepoRoot()
		if err != nil {
			return err
		}
		out = filepath.Join(root, "BENCHMARKS.md")
	}

	res, err := bench.Run(ctx, o)
	fmt.Println()
	if werr := res.WriteTable(os.Stdout); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("%w (the table above has the figures measured before that; %s is unchanged)", err, out)
	}
	if out == "-" {
		return nil
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := res.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println("\nWritten to", out)
	return nil
}

func intList(dst *[]int) func(string) error {
	return func(s string) error {
		*dst = nil
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				return fmt.Errorf("%q is not a positive integer", f)
			}
			*dst = append(*dst, n)
		}
		return nil
	}
}
