package kubeletsim

import "sync"

// containerRef names a container of a pod, whatever the pod's UID.
type containerRef struct {
	namespace, pod, container string
}

// handlerTable picks the Handler for an exec. It owns its maps behind mu; every method
// locks, and handlers are called only after lookup has returned.
type handlerTable struct {
	mu          sync.Mutex
	exact       map[containerRef]Handler
	byContainer map[string]Handler
	fallback    Handler
}

func newHandlerTable(fallback Handler) *handlerTable {
	return &handlerTable{
		exact:       map[containerRef]Handler{},
		byContainer: map[string]Handler{},
		fallback:    fallback,
	}
}

// lookup prefers the most specific handler: this container of this pod, then every
// container with this name, then the node default, then "exit 0, no output".
func (t *handlerTable) lookup(ref containerRef) Handler {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h, ok := t.exact[ref]; ok {
		return h
	}
	if h, ok := t.byContainer[ref.container]; ok {
		return h
	}
	if t.fallback != nil {
		return t.fallback
	}
	return exitZero
}

func (t *handlerTable) set(ref containerRef, h Handler) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h == nil {
		delete(t.exact, ref)
		return
	}
	t.exact[ref] = h
}

func (t *handlerTable) setForContainerName(container string, h Handler) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h == nil {
		delete(t.byContainer, container)
		return
	}
	t.byContainer[container] = h
}

func (t *handlerTable) setFallback(h Handler) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fallback = h
}

// SetHandler scripts the answers of one container of one pod (any incarnation of a pod
// with that name). A nil h removes the script.
func (n *Node) SetHandler(namespace, pod, container string, h Handler) {
	n.handlers.set(containerRef{namespace: namespace, pod: pod, container: container}, h)
}

// SetContainerHandler scripts every container named container, in every pod, unless
// SetHandler scripted that very container. A nil h removes the script.
func (n *Node) SetContainerHandler(container string, h Handler) {
	n.handlers.setForContainerName(container, h)
}

// SetDefaultHandler replaces Options.DefaultHandler. A nil h means "exit 0, no output".
func (n *Node) SetDefaultHandler(h Handler) {
	n.handlers.setFallback(h)
}
