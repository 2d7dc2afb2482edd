package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"

	"github.com/dockprobe/dockprobe/internal/devcluster"
)

// runner carries one run's shared state from phase to phase. Used by one goroutine.
type runner struct {
	opts Options
	log  logr.Logger
	dir  string
	h    *harness
	bin  string           // the operator's binary
	op   *operatorProcess // the running operator, if any
	res  Results
	// raw is measure 1's client and pods, kept to measure the raw rate again later.
	raw struct {
		execer    *rawExecer
		namespace string
		pods      []string
	}
}

// Run starts the control plane and the simulated node, builds the operator, and measures
// everything in one go, so that ratios between figures hold on a noisy machine.
func Run(ctx context.Context, opts Options) (Results, error) {
	opts.Defaults()
	r := &runner{opts: opts, log: opts.Logger}
	r.res.Machine, r.res.Options, r.res.Started = describeMachine(), opts, time.Now()
	if r.opts.Root == "" {
		root, err := devcluster.RepoRoot()
		if err != nil {
			return r.res, err
		}
		r.opts.Root = root
	}
	r.dir = opts.Dir
	if r.dir == "" {
		dir, err := os.MkdirTemp("", "dockprobe-bench-")
		if err != nil {
			return r.res, err
		}
		r.dir = dir
		defer os.RemoveAll(dir)
	}
	err := r.run(ctx)
	r.res.Took = time.Since(r.res.Started)
	return r.res, err
}

func (r *runner) run(ctx context.Context) (err error) {
	r.log.Info("Building the operator and starting the control plane")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		r.bin, err = buildOperator(gctx, r.opts.Root, r.dir)
		return err
	})
	g.Go(func() (err error) {
		r.h, err = startHarness(gctx, r.dir, r.opts.Root, r.log)
		return err
	})
	defer func() {
		if r.op != nil {
			err = errors.Join(err, r.op.stop())
		}
		if r.h != nil {
			err = errors.Join(err, r.h.stop())
		}
	}()
	if err := g.Wait(); err != nil {
		return err
	}

	phases := []struct {
		name string
		run  func(context.Context) error
	}{
		{"raw exec throughput (1)", r.rawExec},
		{"operator throughput (2)", r.throughput},
		{"schedule fidelity and steady-state writes (3, 4)", r.fidelity},
		{"writes while flapping (4)", r.flapping},
		{"memory per idle target and start-up (5, 6)", r.memory},
	}
	for _, p := range phases {
		r.log.Info("Phase", "name", p.name)
		start := time.Now()
		if err := p.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		r.log.Info("Phase done", "name", p.name, "took", time.Since(start).Round(time.Second))
	}
	return nil
}

// startOperator (re)starts the operator process, its logs in the scratch directory.
func (r *runner) startOperator(ctx context.Context, name string) error {
	if r.op != nil {
		if err := r.op.stop(); err != nil {
			return err
		}
		r.op = nil
	}
	logs, err := os.Create(filepath.Join(r.dir, name+".log"))
	if err != nil {
		return err
	}
	var flags []string
	if r.opts.MaxInFlight > 0 {
		flags = append(flags, fmt.Sprintf("--max-concurrent-probes=%d", r.opts.MaxInFlight))
	}
	op, err := startOperatorProcess(ctx, r.bin, r.h.cluster.KubeconfigPath(), flags, logs)
	if err != nil {
		return err
	}
	r.op = op
	return nil
}
