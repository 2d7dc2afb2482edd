package kubeletsim

import "context"

// RestartContainer replaces a container as a kubelet does after a crash: a new
// containerID and startedAt, restartCount+1, and the killed container (exit code 137) as
// lastState. Execs running in it end with an error. It returns once the API server has
// the new status.
func (n *Node) RestartContainer(ctx context.Context, namespace, pod, container string) error {
	key := podKey{namespace, pod}
	cancels, err := n.runtime.restart(key, container)
	cancels.fire(errContainerRestarted)
	if err != nil {
		return err
	}
	return n.publish(ctx, key)
}

// StopContainer terminates a running container with exitCode; it stays terminated and not
// ready (the pod not ready) until StartContainer. Execs running in it end with an error,
// and new ones are refused. It returns once the API server has the new status.
func (n *Node) StopContainer(ctx context.Context, namespace, pod, container string, exitCode int) error {
	key := podKey{namespace, pod}
	cancels, err := n.runtime.stop(key, container, int32(exitCode))
	cancels.fire(errContainerStopped)
	if err != nil {
		return err
	}
	return n.publish(ctx, key)
}

// StartContainer starts a stopped container again, as a kubelet restarting it would: a new
// containerID and startedAt, restartCount+1, the stopped one as lastState. A running
// container is left alone. It returns once the API server has the new status.
func (n *Node) StartContainer(ctx context.Context, namespace, pod, container string) error {
	key := podKey{namespace, pod}
	if err := n.runtime.start(key, container); err != nil {
		return err
	}
	return n.publish(ctx, key)
}
