package vaulttest

import (
	"io"
	"net"
	"sync"
)

// partition is a TCP forwarder between the tests and Vault that can cut
// the path: while cut, connections are accepted and held but no byte
// moves in either direction, as with a Vault behind a dead network link.
// Cutting takes effect when cut returns (no copy is in flight and none
// starts), unlike a signal to the Vault process, which the kernel delivers
// asynchronously.
type partition struct {
	ln     net.Listener
	target string

	gate sync.RWMutex // copies hold it shared; cut holds it exclusively

	mu     sync.Mutex
	cutOn  bool
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newPartition(target string) (*partition, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &partition{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *partition) addr() string { return p.ln.Addr().String() }

func (p *partition) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *partition) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *partition) serve(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	if !p.track(client) {
		return
	}
	// Dialling Vault is itself traffic: it waits while the path is cut.
	p.gate.RLock()
	server, err := net.Dial("tcp", p.target)
	p.gate.RUnlock()
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.copy(server, client); done <- struct{}{} }()
	go func() { p.copy(client, server); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// copy moves bytes from src to dst; each chunk is written under the gate,
// so a cut path holds it until it is restored.
func (p *partition) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate.RLock()
			_, werr := dst.Write(buf[:n])
			p.gate.RUnlock()
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut stops all traffic; it returns once no chunk is being written.
func (p *partition) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutOn || p.closed {
		return
	}
	p.cutOn = true
	p.gate.Lock()
}

// restore lets traffic move again.
func (p *partition) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cutOn {
		return
	}
	p.cutOn = false
	p.gate.Unlock()
}

// close restores the path, closes the listener and every connection, and
// waits for the forwarding goroutines.
func (p *partition) close() {
	p.restore()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
