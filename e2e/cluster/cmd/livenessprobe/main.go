// Command livenessprobe stands in for the upstream sidecar of that name
// (kubernetes-csi/livenessprobe), which the Go module proxy reachable from these machines does
// not serve. Same flags as the manifests pass, same answer: GET /healthz calls the CSI driver's
// Probe and answers 200 when the driver is ready, 500 with the reason otherwise. Its image is
// named strata.test/…, never as upstream's.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	csiAddress := flag.String("csi-address", "/run/csi/socket", "the CSI driver's socket")
	port := flag.Int("health-port", 9808, "the port of /healthz")
	address := flag.String("http-endpoint", "", "host:port of /healthz (wins over --health-port)")
	timeout := flag.Duration("probe-timeout", time.Second, "the timeout of each Probe")
	flag.Int("v", 0, "log verbosity (accepted for compatibility)")
	flag.Parse()
	conn, err := grpc.NewClient("unix://"+*csiAddress, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatalf("%s: %v", *csiAddress, err)
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), *timeout)
		defer cancel()
		resp, err := csi.NewIdentityClient(conn).Probe(ctx, &csi.ProbeRequest{})
		switch {
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "probe failed: %v\n", err)
		case resp.GetReady() != nil && !resp.GetReady().GetValue():
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintln(w, "driver not ready")
		default:
			fmt.Fprintln(w, "ok")
		}
	})
	if *address == "" {
		*address = fmt.Sprintf(":%d", *port)
	}
	log.Printf("serving /healthz on %s for %s", *address, *csiAddress)
	log.Fatal(http.ListenAndServe(*address, nil))
}
