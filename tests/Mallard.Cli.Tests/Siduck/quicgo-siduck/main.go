// quicgo-siduck: a SiDUCK peer (draft-pardue-quic-siduck-00) on quic-go 0.29's datagram API
// (EnableDatagrams, SendMessage, ReceiveMessage), used by Mallard's tests as the other side.
//
//	-mode server -listen ADDR            answer "quack" with "quack-ack", close anything else with 0x101
//	-mode client -server ADDR -count N   send N messages, expect "quack-ack" to each
//	  [-interval MS]                     pausing MS milliseconds after each (as mallard siduck quack -i)
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"time"

	quic "github.com/lucas-clemente/quic-go"
)

const onlyQuacksEcho = 0x101

var alpn = []string{"siduck", "siduck-00"}

func main() {
	mode := flag.String("mode", "server", "server or client")
	listen := flag.String("listen", "127.0.0.1:4433", "server: address to listen on")
	server := flag.String("server", "127.0.0.1:4433", "client: server address")
	count := flag.Int("count", 3, "client: messages to send")
	message := flag.String("message", "quack", "client: payload to send")
	interval := flag.Int("interval", 0, "client: milliseconds to wait after each quack-ack")
	flag.Parse()
	var err error
	if *mode == "server" {
		err = serve(*listen)
	} else {
		err = quack(*server, *count, *message, time.Duration(*interval)*time.Millisecond)
	}
	if err != nil {
		fmt.Println("error:", err)
		var appErr *quic.ApplicationError
		if errors.As(err, &appErr) {
			fmt.Printf("closed by peer with application error 0x%x\n", uint64(appErr.ErrorCode))
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func serve(listen string) error {
	listener, err := quic.ListenAddr(listen, serverTLS(), &quic.Config{EnableDatagrams: true})
	if err != nil {
		return err
	}
	fmt.Println("listening on", listen)
	for {
		conn, err := listener.Accept(context.Background())
		if err != nil {
			return err
		}
		go func(conn quic.Connection) {
			fmt.Println("connected:", conn.RemoteAddr(), "alpn", conn.ConnectionState().TLS.NegotiatedProtocol)
			for {
				msg, err := conn.ReceiveMessage()
				if err != nil {
					fmt.Println("connection ended:", err)
					return
				}
				if !bytes.Equal(msg, []byte("quack")) {
					fmt.Printf("not a quack: %q\n", msg)
					conn.CloseWithError(onlyQuacksEcho, "SiDUCK only quacks echo")
					return
				}
				fmt.Println("quack")
				if err := conn.SendMessage([]byte("quack-ack")); err != nil {
					fmt.Println("send failed:", err)
				}
			}
		}(conn)
	}
}

func quack(server string, count int, message string, interval time.Duration) error {
	tlsConf := &tls.Config{InsecureSkipVerify: true, NextProtos: alpn}
	conn, err := quic.DialAddr(server, tlsConf, &quic.Config{EnableDatagrams: true, HandshakeIdleTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	fmt.Println("connected, alpn", conn.ConnectionState().TLS.NegotiatedProtocol)
	replies := make(chan result, 16)
	go func() {
		for {
			msg, err := conn.ReceiveMessage()
			replies <- result{msg, err}
			if err != nil {
				return
			}
		}
	}()
	acked := 0
	for i := 0; i < count; i++ {
		start := time.Now()
		if err := conn.SendMessage([]byte(message)); err != nil {
			return err
		}
		var reply []byte
		select {
		case r := <-replies:
			if r.err != nil {
				return r.err
			}
			reply = r.msg
		case <-time.After(2 * time.Second):
			fmt.Println("no quack-ack within 2 s")
			continue
		}
		if !bytes.Equal(reply, []byte("quack-ack")) {
			conn.CloseWithError(onlyQuacksEcho, "SiDUCK only quacks echo")
			return fmt.Errorf("unexpected reply %q", reply)
		}
		acked++
		fmt.Printf("quack-ack in %v\n", time.Since(start))
		time.Sleep(interval)
	}
	conn.CloseWithError(0, "")
	fmt.Printf("%d of %d acked\n", acked, count)
	if acked != count {
		return fmt.Errorf("%d quacks lost", count-acked)
	}
	return nil
}

// result is one datagram or the error that ended the connection.
type result struct {
	msg []byte
	err error
}

func serverTLS() *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	template := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   alpn,
	}
}
