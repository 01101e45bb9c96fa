// Command etcd is upstream etcd's server (go.etcd.io/etcd/server/v3/etcdmain) at the version that
// k8s.io/kubernetes pins in go.mod; etcd's own main package lives in a module that does not follow
// the server's releases, so this is the one line it holds.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
