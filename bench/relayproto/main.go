//go:build linux

// Command relayproto is a measuring instrument, not part of pgmantle: a
// bare TCP byte relay (no protocol parsing, no TLS, no policy) in two
// forms, so that the cost of a relay's I/O model can be measured apart
// from pgmantle's own code on the machine at hand.
//
//   - -mode go: two goroutines per connection copying through Go's
//     netpoller (what pgmantle's relay does underneath: each message
//     costs a read, a write and a read that finds nothing and parks).
//   - -mode uring: one locked OS thread driving an io_uring ring for all
//     connections: a recv completion submits a send linked to the next
//     recv, and one io_uring_enter submits everything queued and waits
//     (about one system call per pgbench transaction). -coop uses
//     IORING_SETUP_COOP_TASKRUN instead of DEFER_TASKRUN; -minwait N
//     asks the kernel to wait up to N µs for -waitnr completions.
//
// Usage (see docs/performance.md for the figures it produced):
//
//	go build -o /tmp/relay ./bench/relayproto
//	/tmp/relay -mode uring -coop -listen 127.0.0.1:7435 -upstream 127.0.0.1:5432 &
//	pgbench -n -S -c 8 -j 2 -T 10 -h 127.0.0.1 -p 7435 ...
//
// kill -USR1 prints the uring relay's io_uring_enter and completion counts.
// Errors end connections silently; the relay is for benchmarks only.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const (
	sysSetup = 425
	sysEnter = 426

	opRecv = 27
	opSend = 26
	opRead = 22

	sqeLink        = 1 << 2
	sqeSkipSuccess = 1 << 6

	setupSingleIssuer = 1 << 12
	setupDeferTaskrun = 1 << 13
	setupCoopTaskrun  = 1 << 8

	enterGetEvents = 1
	featSingleMmap = 1
)

type sqOff struct {
	head, tail, mask, entries, flags, dropped, array, resv1 uint32
	user                                                    uint64
}
type cqOff struct {
	head, tail, mask, entries, overflow, cqes, flags, resv1 uint32
	user                                                    uint64
}
type params struct {
	sqEntries, cqEntries, flags, sqCPU, sqIdle, features, wqFd uint32
	resv                                                       [3]uint32
	sq                                                         sqOff
	cq                                                         cqOff
}

type sqe struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	opFlags  uint32
	userData uint64
	bufIndex uint16
	pers     uint16
	splice   int32
	addr3    uint64
	pad      uint64
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

type ring struct {
	fd             int
	sqHead, sqTail *uint32
	sqMask         uint32
	sqes           []sqe
	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           []cqe
	pending        uint32 // sqes written but not submitted
	localTail      uint32
}

func newRing(entries uint32, flags uint32) (*ring, error) {
	var p params
	p.flags = flags
	fd, _, e := syscall.RawSyscall(sysSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, e
	}
	r := &ring{fd: int(fd)}
	sqSize := p.sq.array + p.sqEntries*4
	cqSize := p.cq.cqes + p.cqEntries*16
	size := max(sqSize, cqSize)
	if p.features&featSingleMmap == 0 {
		log.Fatal("no single mmap")
	}
	mem, err := syscall.Mmap(r.fd, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	sqesMem, err := syscall.Mmap(r.fd, 0x10000000, int(p.sqEntries)*64, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	base := unsafe.Pointer(&mem[0])
	r.sqHead = (*uint32)(unsafe.Add(base, p.sq.head))
	r.sqTail = (*uint32)(unsafe.Add(base, p.sq.tail))
	r.sqMask = *(*uint32)(unsafe.Add(base, p.sq.mask))
	arr := unsafe.Slice((*uint32)(unsafe.Add(base, p.sq.array)), p.sqEntries)
	for i := range arr {
		arr[i] = uint32(i)
	}
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&sqesMem[0])), p.sqEntries)
	r.cqHead = (*uint32)(unsafe.Add(base, p.cq.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cq.tail))
	r.cqMask = *(*uint32)(unsafe.Add(base, p.cq.mask))
	r.cqes = unsafe.Slice((*cqe)(unsafe.Add(base, p.cq.cqes)), p.cqEntries)
	r.localTail = atomic.LoadUint32(r.sqTail)
	return r, nil
}

func (r *ring) get() *sqe {
	head := atomic.LoadUint32(r.sqHead)
	if r.localTail-head >= uint32(len(r.sqes)) {
		r.enter(0)
		head = atomic.LoadUint32(r.sqHead)
	}
	s := &r.sqes[r.localTail&r.sqMask]
	*s = sqe{}
	r.localTail++
	r.pending++
	return s
}

var enters, events atomic.Int64

type getEventsArg struct {
	sigmask     uint64
	sigmaskSz   uint32
	minWaitUsec uint32
	ts          uint64
}

var evArg getEventsArg

var longTS = syscall.Timespec{Sec: 1}

var (
	minWait = flag.Int("minwait", 0, "min_wait usec")
	waitNr  = flag.Int("waitnr", 4, "wait_nr with minwait")
	coop    = flag.Bool("coop", false, "COOP_TASKRUN instead of DEFER_TASKRUN")
)

func (r *ring) enter(wait uint32) {
	atomic.StoreUint32(r.sqTail, r.localTail)
	n := r.pending
	r.pending = 0
	fl := uintptr(0)
	argp, argsz := uintptr(0), uintptr(0)
	if wait > 0 {
		fl = enterGetEvents
		if *minWait > 0 {
			fl |= 1 << 3
			evArg.minWaitUsec = uint32(*minWait)
			evArg.ts = uint64(uintptr(unsafe.Pointer(&longTS)))
			argp, argsz = uintptr(unsafe.Pointer(&evArg)), unsafe.Sizeof(evArg)
			wait = uint32(*waitNr)
		}
	}
	enters.Add(1)
	for {
		var e syscall.Errno
		if *rawEnter {
			_, _, e = syscall.RawSyscall6(sysEnter, uintptr(r.fd), uintptr(n), uintptr(wait), fl, argp, argsz)
		} else {
			_, _, e = syscall.Syscall6(sysEnter, uintptr(r.fd), uintptr(n), uintptr(wait), fl, argp, argsz)
		}
		if e == syscall.ETIME {
			return
		}
		if e == syscall.EINTR {
			n = 0
			continue
		}
		if e != 0 {
			log.Fatal("enter: ", e)
		}
		return
	}
}

type pair struct {
	fds  [2]int32 // client, server
	bufs [2][]byte
	out  int // outstanding ops
	dead bool
}

var (
	mode     = flag.String("mode", "uring", "uring | go")
	listen   = flag.String("listen", "127.0.0.1:7432", "")
	upstream = flag.String("upstream", "127.0.0.1:5499", "")
	rawEnter = flag.Bool("raw", false, "RawSyscall for enter")
)

func main() {
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if *mode == "go" {
		for {
			c, err := ln.Accept()
			if err != nil {
				log.Fatal(err)
			}
			go func() {
				s, err := net.Dial("tcp", *upstream)
				if err != nil {
					c.Close()
					return
				}
				go func() { io.CopyBuffer(s, c, make([]byte, 8192)); s.Close() }()
				io.CopyBuffer(c, s, make([]byte, 8192))
				c.Close()
			}()
		}
	}
	runUring(ln)
}

func fdOf(c net.Conn) int32 {
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		log.Fatal(err)
	}
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		log.Fatal(err)
	}
	f.Close()
	c.Close()
	return int32(fd)
}

func runUring(ln net.Listener) {
	var mu sync.Mutex
	var incoming []*pair
	efd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, 0, 0)
	if e != 0 {
		log.Fatal(e)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				log.Fatal(err)
			}
			s, err := net.Dial("tcp", *upstream)
			if err != nil {
				c.Close()
				continue
			}
			p := &pair{fds: [2]int32{fdOf(c), fdOf(s)}, bufs: [2][]byte{make([]byte, 8192), make([]byte, 8192)}}
			mu.Lock()
			incoming = append(incoming, p)
			mu.Unlock()
			var one = [8]byte{1}
			syscall.Write(int(efd), one[:])
		}
	}()
	runtime.LockOSThread()
	fl := uint32(setupSingleIssuer | setupDeferTaskrun)
	if *coop {
		fl = setupSingleIssuer | setupCoopTaskrun
	}
	r, err := newRing(256, fl)
	if err != nil {
		log.Fatal("setup: ", err)
	}
	pairs := map[uint64]*pair{}
	var nextID uint64 = 1
	var evbuf [8]byte
	armEvent := func() {
		s := r.get()
		s.opcode = opRead
		s.fd = int32(efd)
		s.addr = uint64(uintptr(unsafe.Pointer(&evbuf[0])))
		s.len = 8
		s.userData = 0
	}
	armEvent()
	recv := func(id uint64, p *pair, dir int) {
		s := r.get()
		s.opcode = opRecv
		s.fd = p.fds[dir]
		s.addr = uint64(uintptr(unsafe.Pointer(&p.bufs[dir][0])))
		s.len = uint32(len(p.bufs[dir]))
		s.userData = id<<4 | uint64(dir)<<1
		p.out++
	}
	kill := func(p *pair) {
		if !p.dead {
			p.dead = true
			syscall.Shutdown(int(p.fds[0]), syscall.SHUT_RDWR)
			syscall.Shutdown(int(p.fds[1]), syscall.SHUT_RDWR)
		}
	}
	go func() {
		for {
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, syscall.SIGUSR1)
			<-ch
			log.Printf("enters=%d events=%d", enters.Load(), events.Load())
		}
	}()
	for {
		head := atomic.LoadUint32(r.cqHead)
		tail := atomic.LoadUint32(r.cqTail)
		for ; head != tail; head++ {
			c := r.cqes[head&r.cqMask]
			events.Add(1)
			if c.userData == 0 {
				mu.Lock()
				in := incoming
				incoming = nil
				mu.Unlock()
				for _, p := range in {
					id := nextID
					nextID++
					pairs[id] = p
					recv(id, p, 0)
					recv(id, p, 1)
				}
				armEvent()
				continue
			}
			id, dir, isSend := c.userData>>4, int(c.userData>>1&1), c.userData&1 == 1
			p := pairs[id]
			if !isSend {
				p.out--
			}
			switch {
			case isSend || c.res <= 0:
				// a failed send (successful ones post nothing) or a recv at EOF/error
				if !isSend && c.res > 0 {
					break
				}
				kill(p)
			default:
				if p.dead {
					break
				}
				s := r.get()
				s.opcode = opSend
				s.fd = p.fds[1-dir]
				s.addr = uint64(uintptr(unsafe.Pointer(&p.bufs[dir][0])))
				s.len = uint32(c.res)
				s.opFlags = syscall.MSG_WAITALL | syscall.MSG_NOSIGNAL
				s.flags = sqeLink | sqeSkipSuccess
				s.userData = id<<4 | uint64(dir)<<1 | 1
				recv(id, p, dir)
			}
			if p.dead && p.out == 0 {
				syscall.Close(int(p.fds[0]))
				syscall.Close(int(p.fds[1]))
				delete(pairs, id)
			}
		}
		atomic.StoreUint32(r.cqHead, head)
		r.enter(1)
	}
}
