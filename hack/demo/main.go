// Command demo is `make demo`: a control plane, a simulated node whose checks run as real
// processes, the operator and sample HealthChecks, all on this machine, until Ctrl-C.
// See internal/demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/dockprobe/dockprobe/internal/demo"
)

func main() {
	var opts demo.Options
	flag.StringVar(&opts.Dir, "dir", "", "working directory, removed on exit (default <repository>/.demo)")
	flag.IntVar(&opts.Port, "port", 0, "kube-apiserver port on 127.0.0.1 (default: a free one, printed)")
	operator := flag.Bool("operator", true, "run the operator in the demo; false to run it yourself (make run) against the demo's cluster")
	verbose := flag.Bool("v", false, "debug logs (every probe)")
	flag.Parse()
	opts.WithoutOperator = !*operator

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := logr.FromSlogHandler(quietHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})
	ctrl.SetLogger(log)
	klog.SetLogger(log)
	opts.Logger = log

	if err := run(opts, log); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(opts demo.Options, log logr.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env, err := demo.Start(ctx, opts)
	if err != nil {
		return err
	}
	cwd, _ := os.Getwd()
	if err := env.PrintInstructions(os.Stdout, cwd); err != nil {
		log.Error(err, "Cannot print the instructions")
	}

	<-ctx.Done()
	// A second Ctrl-C now kills the demo outright; the next one cleans up after it.
	stop()
	log.Info("Stopping the demo")
	return env.Stop()
}
