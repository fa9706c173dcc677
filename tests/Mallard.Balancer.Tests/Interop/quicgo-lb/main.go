// quicgo-lb: a quic-go 0.29 server that issues QUIC-LB connection IDs for its server ID, and a
// client that checks a transfer through mallard lb, optionally changing its source address or
// pausing in the middle, or that downloads (-download N: the server sends N octets and the client,
// after its request, only acknowledges). Built by the balancer's interop tests from Debian's quic-go package
// (GO111MODULE=off GOPATH=/usr/share/gocode go build).
package main

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	quic "github.com/lucas-clemente/quic-go"
)

const alpn = "mallard-lb-test"

// quicLBGenerator issues draft-ietf-quic-load-balancers-21 connection IDs: the first octet
// carries the config ID in its top three bits, then the server ID and a random nonce, in
// plaintext or, with a key and server ID + nonce = 16 octets, as one AES-128 block (single pass).
type quicLBGenerator struct {
	configID byte
	serverID []byte
	nonceLen int
	key      []byte
}

func (g *quicLBGenerator) ConnectionIDLen() int { return 1 + len(g.serverID) + g.nonceLen }

func (g *quicLBGenerator) GenerateConnectionID() ([]byte, error) {
	cid := make([]byte, g.ConnectionIDLen())
	if _, err := rand.Read(cid); err != nil {
		return nil, err
	}
	cid[0] = g.configID<<5 | cid[0]&0x1f
	copy(cid[1:], g.serverID)
	if g.key != nil {
		block, err := aes.NewCipher(g.key)
		if err != nil {
			return nil, err
		}
		block.Encrypt(cid[1:17], cid[1:17])
	}
	return cid, nil
}

// rebindingConn is a client socket that can move to a new local port, closing the old one, as a
// NAT rebinding does to a client's address.
type rebindingConn struct {
	mu      sync.Mutex
	current *net.UDPConn
}

func newRebindingConn() (*rebindingConn, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return nil, err
	}
	return &rebindingConn{current: c}, nil
}

func (r *rebindingConn) conn() *net.UDPConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

func (r *rebindingConn) Rebind() error {
	fresh, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return err
	}
	r.mu.Lock()
	old := r.current
	r.current = fresh
	r.mu.Unlock()
	return old.Close()
}

func (r *rebindingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		c := r.conn()
		n, addr, err := c.ReadFrom(p)
		if err != nil && c != r.conn() {
			continue // the socket was swapped under us; read from the new one
		}
		return n, addr, err
	}
}

func (r *rebindingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	return r.conn().WriteTo(p, addr)
}
func (r *rebindingConn) Close() error                       { return r.conn().Close() }
func (r *rebindingConn) LocalAddr() net.Addr                { return r.conn().LocalAddr() }
func (r *rebindingConn) SetDeadline(t time.Time) error      { return r.conn().SetDeadline(t) }
func (r *rebindingConn) SetReadDeadline(t time.Time) error  { return r.conn().SetReadDeadline(t) }
func (r *rebindingConn) SetWriteDeadline(t time.Time) error { return r.conn().SetWriteDeadline(t) }

func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	template := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	check(err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "quicgo-lb:", err)
		os.Exit(2)
	}
}

func serve(listen, name, serverIDHex string, configID, nonceLen int, keyHex string) {
	serverID, err := hex.DecodeString(serverIDHex)
	check(err)
	gen := &quicLBGenerator{configID: byte(configID), serverID: serverID, nonceLen: nonceLen}
	if keyHex != "" {
		gen.key, err = hex.DecodeString(keyHex)
		check(err)
		if len(serverID)+nonceLen != 16 {
			check(fmt.Errorf("this generator encrypts only single-pass configs (server ID + nonce = 16)"))
		}
	}
	listener, err := quic.ListenAddr(listen, &tls.Config{Certificates: []tls.Certificate{selfSigned()}, NextProtos: []string{alpn}},
		&quic.Config{ConnectionIDGenerator: gen, MaxIdleTimeout: 30 * time.Second})
	check(err)
	fmt.Printf("listening %s\n", listener.Addr())
	for {
		conn, err := listener.Accept(context.Background())
		check(err)
		go func(conn quic.Connection) {
			for {
				stream, err := conn.AcceptStream(context.Background())
				if err != nil {
					return
				}
				go func(stream quic.Stream) {
					hash := sha256.New()
					request := &prefixWriter{limit: 64}
					n, err := io.Copy(io.MultiWriter(hash, request), stream)
					if err != nil {
						stream.CancelWrite(1)
						return
					}
					var size int
					if _, err := fmt.Sscanf(string(request.data), "download %d", &size); err == nil {
						stream.Write(pattern(size, 0))
						stream.Close()
						return
					}
					fmt.Fprintf(stream, "server=%s bytes=%d sha256=%x remote=%s\n", name, n, hash.Sum(nil), conn.RemoteAddr())
					stream.Close()
				}(stream)
			}
		}(conn)
	}
}

// connect dials the balancer from a socket of its own (which can move, rebindingConn) and
// opens the transfer's stream; close the connection, then the socket.
func connect(target string, idle time.Duration) (*rebindingConn, quic.Connection, quic.Stream, error) {
	addr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return nil, nil, nil, err
	}
	pconn, err := newRebindingConn()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := quic.DialContext(ctx, pconn, addr, "localhost", &tls.Config{InsecureSkipVerify: true, NextProtos: []string{alpn}},
		&quic.Config{MaxIdleTimeout: idle, HandshakeIdleTimeout: idle})
	if err != nil {
		pconn.Close()
		return nil, nil, nil, fmt.Errorf("handshake: %w", err)
	}
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		conn.CloseWithError(0, "")
		pconn.Close()
		return nil, nil, nil, err
	}
	return pconn, conn, stream, nil
}

// prefixWriter keeps the first limit octets written to it.
type prefixWriter struct {
	limit int
	data  []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if room := p.limit - len(p.data); room > 0 {
		if room > len(b) {
			room = len(b)
		}
		p.data = append(p.data, b[:room]...)
	}
	return len(b), nil
}

// pattern is the data of a transfer: octet i is i*7 + index.
func pattern(size, index int) []byte {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + index)
	}
	return data
}

// readRate, when above zero, caps how fast download reads (octets per second), so that a transfer
// lasts long enough for what a test does to the balancer in the middle of it.
var readRate int

// writeRate, when above zero, caps how fast transfer writes (octets per second), and reportAt
// then has it print a line when that many octets are written: an uploader that keeps talking,
// so that a NAT rebinding shows at once (a downloader only acknowledges what reaches it).
var writeRate int
var reportAt int

// download asks for size octets and reads them, printing a line when reportAt have arrived.
func download(target string, size, reportAt int, idle time.Duration) (string, error) {
	pconn, conn, stream, err := connect(target, idle)
	if err != nil {
		return "", err
	}
	defer pconn.Close()
	defer conn.CloseWithError(0, "done")
	fmt.Fprintf(stream, "download %d\n", size)
	stream.Close()
	expected := pattern(size, 0)
	buffer := make([]byte, 64*1024)
	received := 0
	started := time.Now()
	for {
		n, err := stream.Read(buffer)
		if n > 0 {
			if received+n > size || string(buffer[:n]) != string(expected[received:received+n]) {
				return "", fmt.Errorf("the data differs at %d", received)
			}
			if received < reportAt && received+n >= reportAt {
				fmt.Printf("received %d\n", received+n)
			}
			received += n
			if readRate > 0 {
				due := started.Add(time.Duration(float64(received) / float64(readRate) * float64(time.Second)))
				time.Sleep(time.Until(due))
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read at %d: %w", received, err)
		}
	}
	if received != size {
		return "", fmt.Errorf("received %d of %d octets", received, size)
	}
	return fmt.Sprintf("download bytes=%d", received), nil
}

func transfer(target string, index, size, rebindAt, pauseAt int, idle time.Duration) (string, error) {
	pconn, conn, stream, err := connect(target, idle)
	if err != nil {
		return "", err
	}
	defer pconn.Close()
	defer conn.CloseWithError(0, "done")
	data := pattern(size, index)
	sum := sha256.Sum256(data)
	const chunk = 16 * 1024
	started := time.Now()
	for written := 0; written < size; {
		end := written + chunk
		if end > size {
			end = size
		}
		if _, err := stream.Write(data[written:end]); err != nil {
			return "", fmt.Errorf("write at %d: %w", written, err)
		}
		if rebindAt > 0 && written < rebindAt && end >= rebindAt {
			if err := pconn.Rebind(); err != nil {
				return "", err
			}
			fmt.Printf("conn=%d rebound to %s\n", index, pconn.LocalAddr())
		}
		if reportAt > 0 && written < reportAt && end >= reportAt {
			fmt.Printf("sent %d\n", end)
		}
		if writeRate > 0 {
			time.Sleep(time.Until(started.Add(time.Duration(float64(end) / float64(writeRate) * float64(time.Second)))))
		}
		if pauseAt > 0 && written < pauseAt && end >= pauseAt {
			fmt.Printf("conn=%d paused\n", index)
			bufio.NewReader(os.Stdin).ReadString('\n')
		}
		written = end
	}
	stream.Close()
	reply, err := io.ReadAll(stream)
	if err != nil {
		return "", fmt.Errorf("reading the reply: %w", err)
	}
	line := strings.TrimSpace(string(reply))
	if !strings.Contains(line, fmt.Sprintf("bytes=%d sha256=%x", size, sum)) {
		return line, fmt.Errorf("the server received different data: %s", line)
	}
	return line, nil
}

func main() {
	mode := flag.String("mode", "", "server or client")
	listen := flag.String("listen", "127.0.0.1:0", "server: listen address")
	name := flag.String("name", "server", "server: name reported to clients")
	serverID := flag.String("server-id", "41414141", "server: QUIC-LB server ID (hex)")
	configID := flag.Int("config-id", 0, "server: QUIC-LB config ID")
	nonceLen := flag.Int("nonce-len", 8, "server: nonce length")
	key := flag.String("key", "", "server: AES-128 key (hex) for single-pass encryption")
	target := flag.String("connect", "", "client: balancer address")
	connections := flag.Int("connections", 1, "client: number of connections, one after another")
	size := flag.Int("bytes", 1<<20, "client: bytes sent on the stream of each connection")
	rebindAt := flag.Int("rebind-at", 0, "client: move to a new source port after this many bytes")
	pauseAt := flag.Int("pause-at", 0, "client: after this many bytes, wait for a line on stdin")
	idle := flag.Duration("idle", 5*time.Second, "client: idle timeout")
	downloadSize := flag.Int("download", 0, "client: download this many octets instead of sending")
	flag.IntVar(&reportAt, "report-at", 0, "client: print a line when this many octets have arrived (-download) or were written (-write-rate)")
	flag.IntVar(&writeRate, "write-rate", 0, "client: without -download, write at most this many octets per second (0: as fast as they go)")
	flag.IntVar(&readRate, "read-rate", 0, "client: with -download, read at most this many octets per second (0: as fast as they come)")
	flag.Parse()
	switch *mode {
	case "server":
		serve(*listen, *name, *serverID, *configID, *nonceLen, *key)
	case "client":
		failed := 0
		for i := 0; i < *connections; i++ {
			var line string
			var err error
			if *downloadSize > 0 {
				line, err = download(*target, *downloadSize, reportAt, *idle)
			} else {
				line, err = transfer(*target, i, *size, *rebindAt, *pauseAt, *idle)
			}
			if err != nil {
				fmt.Printf("conn=%d failed: %v\n", i, err)
				failed++
				continue
			}
			fmt.Printf("conn=%d ok %s\n", i, line)
		}
		if failed > 0 {
			os.Exit(1)
		}
	default:
		check(fmt.Errorf("-mode server or -mode client"))
	}
}
