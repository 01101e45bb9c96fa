// Command csi-node-driver-registrar stands in for the upstream sidecar of that name
// (kubernetes-csi/node-driver-registrar), which the Go module proxy reachable from these
// machines does not serve. It does the same job with the same flags the manifests pass: it asks
// the CSI driver its name (GetPluginInfo), serves kubelet's plugin-registration API
// (k8s.io/kubelet/pkg/apis/pluginregistration/v1) on <plugin-registration-path>/<name>-reg.sock,
// and exits when kubelet reports a failed registration. With --mode=kubelet-registration-probe it
// succeeds once kubelet has registered the driver. Its image is named strata.test/…, never as
// upstream's, so nobody mistakes it for the real one.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	registration "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

type server struct {
	registration.UnimplementedRegistrationServer
	name, endpoint, marker string
}

func (s *server) GetInfo(context.Context, *registration.InfoRequest) (*registration.PluginInfo, error) {
	log.Printf("kubelet asked for the plugin's info: %s at %s", s.name, s.endpoint)
	return &registration.PluginInfo{Type: registration.CSIPlugin, Name: s.name, Endpoint: s.endpoint,
		SupportedVersions: []string{"1.0.0"}}, nil
}

func (s *server) NotifyRegistrationStatus(_ context.Context, st *registration.RegistrationStatus) (*registration.RegistrationStatusResponse, error) {
	if !st.PluginRegistered {
		log.Printf("kubelet refused the registration: %s", st.Error)
		os.Remove(s.marker)
		os.Exit(1)
	}
	log.Printf("kubelet registered %s", s.name)
	if err := os.WriteFile(s.marker, []byte(s.name+"\n"), 0o644); err != nil {
		log.Printf("cannot write %s: %v", s.marker, err)
	}
	return &registration.RegistrationStatusResponse{}, nil
}

func main() {
	csiAddress := flag.String("csi-address", "/csi/csi.sock", "the CSI driver's socket, in this container")
	kubeletPath := flag.String("kubelet-registration-path", "", "the CSI driver's socket, on the host (what kubelet dials)")
	registrationDir := flag.String("plugin-registration-path", "/registration", "kubelet's plugins_registry directory, in this container")
	mode := flag.String("mode", "registration", "registration, or kubelet-registration-probe")
	timeout := flag.Duration("timeout", time.Second, "the timeout of each call to the driver")
	flag.Int("v", 0, "log verbosity (accepted for compatibility)")
	flag.Parse()
	if *kubeletPath == "" {
		log.Fatal("--kubelet-registration-path is required")
	}
	marker := filepath.Join(filepath.Dir(*csiAddress), "registration")
	if *mode == "kubelet-registration-probe" {
		if _, err := os.Stat(marker); err != nil {
			fmt.Fprintf(os.Stderr, "kubelet has not registered the driver yet (%v)\n", err)
			os.Exit(1)
		}
		return
	}
	if *mode != "registration" {
		log.Fatalf("--mode=%s: want registration or kubelet-registration-probe", *mode)
	}
	name := driverName(*csiAddress, *timeout)
	socket := filepath.Join(*registrationDir, name+"-reg.sock")
	if err := os.Remove(socket); err != nil && !os.IsNotExist(err) {
		log.Fatalf("cannot remove the old %s: %v", socket, err)
	}
	lis, err := net.Listen("unix", socket)
	if err != nil {
		log.Fatalf("cannot listen on %s: %v", socket, err)
	}
	srv := grpc.NewServer()
	registration.RegisterRegistrationServer(srv, &server{name: name, endpoint: *kubeletPath, marker: marker})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		os.Remove(socket)
		os.Remove(marker)
		srv.Stop()
	}()
	log.Printf("serving kubelet's registration of %s on %s", name, socket)
	if err := srv.Serve(lis); err != nil {
		log.Fatal(err)
	}
}

// driverName asks the driver its name, waiting for its socket as long as it takes.
func driverName(address string, timeout time.Duration) string {
	conn, err := grpc.NewClient("unix://"+address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatalf("%s: %v", address, err)
	}
	defer conn.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		info, err := csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{})
		cancel()
		if err == nil && info.GetName() != "" {
			return info.GetName()
		}
		log.Printf("waiting for the CSI driver at %s: %v", address, err)
		time.Sleep(time.Second)
	}
}
