// datagram-go: the quic-go 0.29 side of bench/datagram-vs-quicgo.sh. The same protocol as
// bench/Mallard.DatagramBench, so either client can measure either server:
//
//	ALPN "mallard-bench"; every DATAGRAM is echoed unchanged; a bidirectional stream carries an
//	8-octet big-endian length and is answered with that many octets and FIN.
//
//	-mode server -listen ADDR [-early]
//	    (with -early, 0-RTT is accepted: quic.ListenAddrEarly)
//	-mode client -server ADDR [-pings 1000] [-seconds 5] [-window 64] [-megabytes 50]
//	-mode handshakes -server ADDR [-count 200] [-parallel 16]
//	    (COUNT connections one after another, then COUNT with PARALLEL at a time; each echoes
//	    one 64-octet datagram and closes)
//	-mode scale -server ADDR -connections N [-interval-ms 100] [-seconds 10] [-mark DIR]
//	    (N connections over one UDP socket, each echoing a 100-octet datagram every interval;
//	    with -mark, DIR/steady and DIR/done are created when the echo phase starts and ends)
//	-mode firstanswer -server ADDR [-count 100]
//	    (the time from dialling to a 64-octet answer on a new stream: full handshakes, resumed
//	    ones, and resumed with the request in 0-RTT, COUNT of each, interleaved)
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand"
	"net"
	"os"
	"sort"
	"sync"
	"syscall"
	"sync/atomic"
	"time"

	quic "github.com/lucas-clemente/quic-go"
)

var alpn = []string{"mallard-bench"}

func main() {
	mode := flag.String("mode", "server", "server or client")
	listen := flag.String("listen", "127.0.0.1:4433", "server: address")
	server := flag.String("server", "127.0.0.1:4433", "client: server address")
	pings := flag.Int("pings", 1000, "client: sequential datagram round trips")
	seconds := flag.Int("seconds", 5, "client: seconds of windowed datagram echo")
	window := flag.Int("window", 64, "client: datagrams in flight in the rate phase")
	megabytes := flag.Int("megabytes", 50, "client: stream download beside 1000 datagrams/s")
	connections := flag.Int("connections", 100, "scale: connections")
	intervalMs := flag.Int("interval-ms", 100, "scale: milliseconds between one connection's datagrams")
	mark := flag.String("mark", "", "scale: directory for the steady and done marker files")
	count := flag.Int("count", 200, "handshakes: connections per phase")
	parallel := flag.Int("parallel", 16, "handshakes: connections at a time in the second phase")
	early := flag.Bool("early", false, "server: accept 0-RTT")
	flag.Parse()
	var err error
	if *mode == "server" {
		err = serve(*listen, *early)
	} else if *mode == "firstanswer" {
		err = firstAnswer(*server, *count)
	} else if *mode == "handshakes" {
		err = handshakes(*server, *count, *parallel)
	} else if *mode == "scale" {
		err = scale(*server, *connections, time.Duration(*intervalMs)*time.Millisecond, *seconds, *mark)
	} else {
		err = measure(*server, *pings, *seconds, *window, *megabytes)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// acceptor is what serve needs of quic.Listener and quic.EarlyListener.
type acceptor interface {
	Accept(context.Context) (quic.Connection, error)
}

type earlyAcceptor struct{ quic.EarlyListener }

func (e earlyAcceptor) Accept(ctx context.Context) (quic.Connection, error) {
	return e.EarlyListener.Accept(ctx)
}

func serve(listen string, early bool) error {
	config := &quic.Config{EnableDatagrams: true, MaxIdleTimeout: 30 * time.Second}
	var listener acceptor
	if early {
		l, err := quic.ListenAddrEarly(listen, serverTLS(), config)
		if err != nil {
			return err
		}
		listener = earlyAcceptor{l}
	} else {
		l, err := quic.ListenAddr(listen, serverTLS(), config)
		if err != nil {
			return err
		}
		listener = l
	}
	fmt.Println("listening on", listen)
	for {
		conn, err := listener.Accept(context.Background())
		if err != nil {
			return err
		}
		go func() {
			for {
				msg, err := conn.ReceiveMessage()
				if err != nil {
					return
				}
				conn.SendMessage(msg)
			}
		}()
		go func() {
			for {
				stream, err := conn.AcceptStream(context.Background())
				if err != nil {
					return
				}
				go func() {
					var header [8]byte
					if _, err := io.ReadFull(stream, header[:]); err != nil {
						return
					}
					remaining := binary.BigEndian.Uint64(header[:])
					chunk := make([]byte, 64*1024)
					for remaining > 0 {
						n := uint64(len(chunk))
						if remaining < n {
							n = remaining
						}
						if _, err := stream.Write(chunk[:n]); err != nil {
							return
						}
						remaining -= n
					}
					stream.Close()
				}()
			}
		}()
	}
}

func stamp(size int, seq uint64) []byte {
	payload := make([]byte, size)
	binary.BigEndian.PutUint64(payload, seq)
	binary.BigEndian.PutUint64(payload[8:], uint64(time.Now().UnixNano()))
	return payload
}

func rttOf(payload []byte) time.Duration {
	return time.Duration(time.Now().UnixNano() - int64(binary.BigEndian.Uint64(payload[8:])))
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(p*float64(len(sorted)-1))].Microseconds()) / 1000
}

func measure(server string, pings, seconds, window, megabytes int) error {
	conn, err := quic.DialAddr(server, &tls.Config{InsecureSkipVerify: true, NextProtos: alpn}, &quic.Config{EnableDatagrams: true, MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	defer conn.CloseWithError(0, "")
	echoes := make(chan []byte, 4096)
	go func() {
		for {
			msg, err := conn.ReceiveMessage()
			if err != nil {
				close(echoes)
				return
			}
			echoes <- msg
		}
	}()

	// 1. Sequential round trips of 64-octet datagrams.
	var rtts []time.Duration
	for i := 0; i < pings; i++ {
		conn.SendMessage(stamp(64, uint64(i)))
		select {
		case msg := <-echoes:
			rtts = append(rtts, rttOf(msg))
		case <-time.After(500 * time.Millisecond):
		}
	}
	sort.Slice(rtts, func(a, b int) bool { return rtts[a] < rtts[b] })

	// 2. Echoed 1000-octet datagrams per second with a window in flight.
	var received int64
	slots := make(chan struct{}, window)
	for i := 0; i < window; i++ {
		slots <- struct{}{}
	}
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-echoes:
				atomic.AddInt64(&received, 1)
				slots <- struct{}{}
			case <-done:
				return
			}
		}
	}()
	start := time.Now()
	for seq := uint64(0); time.Now().Before(deadline); seq++ {
		select {
		case <-slots:
			conn.SendMessage(stamp(1000, seq))
		case <-time.After(100 * time.Millisecond): // the window was lost: refill it
			for i := 0; i < window; i++ {
				select {
				case slots <- struct{}{}:
				default:
				}
			}
		}
	}
	rate := float64(atomic.LoadInt64(&received)) / time.Since(start).Seconds()
	close(done)
	time.Sleep(200 * time.Millisecond)
	for len(echoes) > 0 {
		<-echoes
	}

	// 3. A stream download with 1000 datagrams/s beside it.
	var mixed []time.Duration
	var mu sync.Mutex
	stop := make(chan struct{})
	var sent int64
	go func() {
		ticker := time.NewTicker(time.Millisecond)
		defer ticker.Stop()
		for seq := uint64(0); ; seq++ {
			select {
			case <-ticker.C:
				if conn.SendMessage(stamp(200, seq)) == nil {
					atomic.AddInt64(&sent, 1)
				}
			case <-stop:
				return
			}
		}
	}()
	go func() {
		for msg := range echoes {
			mu.Lock()
			mixed = append(mixed, rttOf(msg))
			mu.Unlock()
		}
	}()
	stream, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		return err
	}
	var header [8]byte
	binary.BigEndian.PutUint64(header[:], uint64(megabytes)*1_000_000)
	streamStart := time.Now()
	stream.Write(header[:])
	stream.Close()
	n, err := io.Copy(io.Discard, stream)
	if err != nil {
		return err
	}
	streamSeconds := time.Since(streamStart).Seconds()
	close(stop)
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	sort.Slice(mixed, func(a, b int) bool { return mixed[a] < mixed[b] })
	fmt.Printf("rtt_p50_ms=%.3f rtt_p99_ms=%.3f pings_answered=%d rate_dps=%.0f mixed_stream_mbps=%.1f mixed_dg_p50_ms=%.3f mixed_dg_p99_ms=%.3f mixed_dg_sent=%d mixed_dg_echoed=%d\n",
		percentile(rtts, 0.5), percentile(rtts, 0.99), len(rtts), rate, float64(n)*8/streamSeconds/1e6,
		percentile(mixed, 0.5), percentile(mixed, 0.99), atomic.LoadInt64(&sent), len(mixed))
	mu.Unlock()
	return nil
}

// handshakes connects count times in a row, then count times with parallel at a time.
func handshakes(server string, count, parallel int) error {
	one := func() error {
		conn, err := quic.DialAddr(server, &tls.Config{InsecureSkipVerify: true, NextProtos: alpn}, &quic.Config{EnableDatagrams: true})
		if err != nil {
			return err
		}
		defer conn.CloseWithError(0, "")
		if err := conn.SendMessage(stamp(64, 0)); err != nil {
			return err
		}
		_, err = conn.ReceiveMessage()
		return err
	}
	inParallel := func(n int) error {
		var next int64
		var wg sync.WaitGroup
		var failure error
		var mu sync.Mutex
		for w := 0; w < parallel; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for atomic.AddInt64(&next, 1) <= int64(n) {
					if err := one(); err != nil {
						mu.Lock()
						failure = err
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		return failure
	}
	// Not counted, as in the Mallard client (which needs it for the JIT): a warm-up.
	warmUp := count
	if warmUp > 300 {
		warmUp = 300
	}
	if err := inParallel(warmUp); err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < count; i++ {
		if err := one(); err != nil {
			return err
		}
	}
	sequential := float64(count) / time.Since(start).Seconds()
	start = time.Now()
	if err := inParallel(count); err != nil {
		return err
	}
	fmt.Printf("hs_seq_per_s=%.1f hs_par_per_s=%.1f\n", sequential, float64(count)/time.Since(start).Seconds())
	return nil
}

// scale opens connections over one socket, then has each echo a 100-octet datagram every interval.
func scale(server string, connections int, interval time.Duration, seconds int, mark string) error {
	remote, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return err
	}
	socket, err := net.ListenUDP("udp", &net.UDPAddr{IP: remote.IP, Port: 0})
	if err != nil {
		return err
	}
	socket.SetReadBuffer(8 << 20)
	socket.SetWriteBuffer(8 << 20)
	conns := make([]quic.Connection, connections)
	setupStart := time.Now()
	var failed int64
	var wg sync.WaitGroup
	gate := make(chan struct{}, 64)
	for i := range conns {
		wg.Add(1)
		gate <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-gate }()
			conn, err := quic.Dial(socket, remote, "localhost", &tls.Config{InsecureSkipVerify: true, NextProtos: alpn},
				&quic.Config{EnableDatagrams: true, MaxIdleTimeout: 60 * time.Second, KeepAlivePeriod: 20 * time.Second, HandshakeIdleTimeout: 30 * time.Second})
			if err != nil {
				atomic.AddInt64(&failed, 1)
				return
			}
			conns[i] = conn
		}(i)
	}
	wg.Wait()
	setup := time.Since(setupStart).Seconds()
	if mark != "" {
		os.WriteFile(mark+"/steady", nil, 0o644)
	}
	cpuAtSteady := cpuMicroseconds()

	var sent, echoed, lost int64
	var mu sync.Mutex
	var rtts []time.Duration
	stop := make(chan struct{})
	for _, conn := range conns {
		if conn == nil {
			continue
		}
		conn := conn
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				msg, err := conn.ReceiveMessage()
				if err != nil {
					return
				}
				rtt := rttOf(msg)
				atomic.AddInt64(&echoed, 1)
				mu.Lock()
				rtts = append(rtts, rtt)
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(mrand.Int63n(int64(interval)))) // spread the connections over the interval
			ticker := time.NewTicker(interval)
			defer ticker.Stop()
			for seq := uint64(0); ; seq++ {
				select {
				case <-ticker.C:
					if conn.SendMessage(stamp(100, seq)) == nil {
						atomic.AddInt64(&sent, 1)
					}
				case <-stop:
					return
				}
			}
		}()
	}
	time.Sleep(time.Duration(seconds) * time.Second)
	close(stop)
	time.Sleep(time.Second) // the last echoes
	if mark != "" {
		os.WriteFile(mark+"/done", nil, 0o644)
	}
	clientCPU := cpuMicroseconds() - cpuAtSteady
	for _, conn := range conns {
		if conn != nil {
			if conn.Context().Err() != nil {
				atomic.AddInt64(&lost, 1)
			}
			conn.CloseWithError(0, "")
		}
	}
	mu.Lock()
	sort.Slice(rtts, func(a, b int) bool { return rtts[a] < rtts[b] })
	fmt.Printf("connections=%d failed=%d lost=%d setup_s=%.2f sent=%d echoed=%d echoed_pct=%.3f rtt_p50_ms=%.3f rtt_p99_ms=%.3f client_cpu_us_per_datagram=%.1f\n",
		connections, atomic.LoadInt64(&failed), atomic.LoadInt64(&lost), setup, atomic.LoadInt64(&sent), atomic.LoadInt64(&echoed),
		100*float64(atomic.LoadInt64(&echoed))/float64(max64(atomic.LoadInt64(&sent), 1)), percentile(rtts, 0.5), percentile(rtts, 0.99),
		float64(clientCPU)/float64(max64(atomic.LoadInt64(&echoed), 1)))
	mu.Unlock()
	return nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func serverTLS() *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	template := x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: alpn}
}

// cpuMicroseconds is this process's user and system CPU so far (getrusage), for the scale mode's
// account of what the client itself costs: on a small machine it can be what limits the run.
func cpuMicroseconds() int64 {
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) != nil {
		return 0
	}
	return usage.Utime.Sec*1_000_000 + int64(usage.Utime.Usec) + usage.Stime.Sec*1_000_000 + int64(usage.Stime.Usec)
}

// firstAnswer times dialling to the 64-octet answer of one stream request, for full handshakes,
// resumed ones (a session ticket, the request after the handshake) and 0-RTT (the request in the
// first flight), COUNT of each, interleaved; prints the medians and how often 0-RTT was accepted.
func firstAnswer(server string, count int) error {
	cache := tls.NewLRUClientSessionCache(4)
	fresh := &tls.Config{InsecureSkipVerify: true, NextProtos: alpn}
	resuming := &tls.Config{InsecureSkipVerify: true, NextProtos: alpn, ClientSessionCache: cache}
	one := func(conf *tls.Config, early bool) (time.Duration, bool, error) {
		start := time.Now()
		var conn quic.Connection
		var earlyConn quic.EarlyConnection
		var err error
		if early {
			earlyConn, err = quic.DialAddrEarly(server, conf, &quic.Config{})
			conn = earlyConn
		} else {
			conn, err = quic.DialAddr(server, conf, &quic.Config{})
		}
		if err != nil {
			return 0, false, err
		}
		defer conn.CloseWithError(0, "")
		stream, err := conn.OpenStreamSync(context.Background())
		if err != nil {
			return 0, false, err
		}
		var header [8]byte
		binary.BigEndian.PutUint64(header[:], 64)
		if _, err := stream.Write(header[:]); err != nil {
			return 0, false, err
		}
		stream.Close()
		answer, err := io.ReadAll(stream)
		if err != nil || len(answer) != 64 {
			return 0, false, fmt.Errorf("answer: %d octets, %v", len(answer), err)
		}
		elapsed := time.Since(start)
		if early {
			<-earlyConn.HandshakeComplete().Done()
		}
		return elapsed, conn.ConnectionState().TLS.Used0RTT, nil
	}
	// Warm up, and the first ticket.
	for i := 0; i < 5; i++ {
		if _, _, err := one(resuming, false); err != nil {
			return err
		}
	}
	var full, resumed, zeroRtt []time.Duration
	accepted := 0
	for i := 0; i < count; i++ {
		d, _, err := one(fresh, false)
		if err != nil {
			return err
		}
		full = append(full, d)
		if d, _, err = one(resuming, false); err != nil {
			return err
		}
		resumed = append(resumed, d)
		d, used, err := one(resuming, true)
		if err != nil {
			return err
		}
		zeroRtt = append(zeroRtt, d)
		if used {
			accepted++
		}
	}
	for _, list := range [][]time.Duration{full, resumed, zeroRtt} {
		sort.Slice(list, func(a, b int) bool { return list[a] < list[b] })
	}
	fmt.Printf("full_ms_p50=%.2f resumed_ms_p50=%.2f zerortt_ms_p50=%.2f zerortt_accepted=%d/%d\n",
		percentile(full, 0.5), percentile(resumed, 0.5), percentile(zeroRtt, 0.5), accepted, count)
	return nil
}
