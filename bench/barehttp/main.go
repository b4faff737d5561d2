// Command barehttp is the ceiling of our stack for make bench-hit: a bare
// net/http server that writes one file's bytes from memory, with a fixed
// Content-Type, on every request. Usage: barehttp ADDR FILE [TYPE]; TYPE
// defaults to text/html.
package main

import (
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	length := strconv.Itoa(len(body))
	ctype := "text/html"
	if len(os.Args) > 3 {
		ctype = os.Args[3]
	}
	log.Fatal(http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", length)
		w.Write(body)
	})))
}
