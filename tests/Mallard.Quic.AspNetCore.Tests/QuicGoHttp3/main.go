// quicgo-h3: an HTTP/3 client on quic-go 0.29's http3 package (Debian's source), used by Mallard's
// tests as an independent peer of a Kestrel app served over Mallard.Quic.
//
//	-url https://HOST:PORT/PATH [-count N] [-parallel P] [-method GET|POST] [-body-bytes N]
//
// Makes COUNT requests, P at a time, over one connection; prints one line per response:
// "status=200 proto=HTTP/3.0 bytes=N sha256=HEX header-x=VALUE", then "done requests=N".
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/lucas-clemente/quic-go/http3"
)

func main() {
	url := flag.String("url", "", "the URL to fetch")
	count := flag.Int("count", 1, "requests to make")
	parallel := flag.Int("parallel", 1, "requests at a time")
	method := flag.String("method", "GET", "GET or POST")
	bodyBytes := flag.Int("body-bytes", 0, "POST: octets of request body (the pattern i % 251)")
	flag.Parse()

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
	failed := false
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
					failed = true
					mu.Unlock()
					continue
				}
				hash := sha256.New()
				n, err := io.Copy(hash, response.Body)
				response.Body.Close()
				mu.Lock()
				if err != nil {
					fmt.Printf("error reading body: %v\n", err)
					failed = true
				} else {
					fmt.Printf("status=%d proto=%s bytes=%d sha256=%s header-x=%s\n", response.StatusCode, response.Proto, n,
						hex.EncodeToString(hash.Sum(nil)), response.Header.Get("X-Mallard"))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("done requests=%d\n", *count)
	if failed {
		os.Exit(1)
	}
}
