// quicgo-h3: an HTTP/3 client on quic-go 0.29's http3 package (Debian's source), used by Mallard's
// tests as an independent peer of a Kestrel app served over Mallard.Quic.
//
//	-url https://HOST:PORT/PATH [-count N] [-parallel P] [-method GET|POST] [-body-bytes N] [-quiet]
//	-listen ADDR    serve GET / with "Hello from quic-go over HTTP/3\n" (the benchmark's peer server)
//
// The client makes COUNT requests, P at a time, over one connection; prints one line per
// response (unless -quiet): "status=200 proto=HTTP/3.0 bytes=N sha256=HEX header-x=VALUE", then
// "done requests=N failed=N seconds=S requests_per_s=R".
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go/http3"
)

func main() {
	url := flag.String("url", "", "the URL to fetch")
	count := flag.Int("count", 1, "requests to make")
	parallel := flag.Int("parallel", 1, "requests at a time")
	method := flag.String("method", "GET", "GET or POST")
	bodyBytes := flag.Int("body-bytes", 0, "POST: octets of request body (the pattern i % 251)")
	quiet := flag.Bool("quiet", false, "print only the summary line")
	listen := flag.String("listen", "", "serve instead of fetching, on this address")
	flag.Parse()
	if *listen != "" {
		serve(*listen)
		return
	}

	transport := &http3.RoundTripper{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer transport.Close()
	client := &http.Client{Transport: transport}

	var body []byte
	for i := 0; i < *bodyBytes; i++ {
		body = append(body, byte(i%251))
	}

	var mu sync.Mutex
	var wg sync.WaitGroup
	next := 0
	failed := 0
	start := time.Now()
	for p := 0; p < *parallel; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= *count {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				request, err := http.NewRequest(*method, *url, bytes.NewReader(body))
				if err != nil {
					panic(err)
				}
				response, err := client.Do(request)
				if err != nil {
					mu.Lock()
					fmt.Printf("error %v\n", err)
					failed++
					mu.Unlock()
					continue
				}
				hash := sha256.New()
				n, err := io.Copy(hash, response.Body)
				response.Body.Close()
				mu.Lock()
				if err != nil {
					fmt.Printf("error reading body: %v\n", err)
					failed++
				} else if !*quiet {
					fmt.Printf("status=%d proto=%s bytes=%d sha256=%s header-x=%s\n", response.StatusCode, response.Proto, n,
						hex.EncodeToString(hash.Sum(nil)), response.Header.Get("X-Mallard"))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	fmt.Printf("done requests=%d failed=%d seconds=%.3f requests_per_s=%.1f\n", *count, failed, seconds, float64(*count-failed)/seconds)
	if failed > 0 {
		os.Exit(1)
	}
}

// serve answers GET / over HTTP/3 with a self-signed certificate, as the Kestrel app does.
func serve(address string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	template := x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello from quic-go over HTTP/3\n")
	})
	server := http3.Server{Addr: address, Handler: mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}
	fmt.Printf("listening on %s\n", address)
	if err := server.ListenAndServe(); err != nil {
		panic(err)
	}
}
