// Command ociimage writes a container image as a docker-archive tarball (what
// `ctr images import` reads) from layer tarballs and a few config fields, with
// go-containerregistry. It is how bin/cluster builds images without a registry or a daemon.
//
//	ociimage -o out.tar -t NAME:TAG [-t …] [-entrypoint '["/x","y"]'] [-env K=V …]
//	         [-workdir DIR] [-user UID] [-label K=V …] LAYER.tar[.gz] …
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var tags, env, labels list
	out := flag.String("o", "", "the docker-archive tarball to write")
	entrypoint := flag.String("entrypoint", "", "the entrypoint, a JSON array")
	cmd := flag.String("cmd", "", "the command, a JSON array")
	workdir := flag.String("workdir", "", "the working directory")
	user := flag.String("user", "", "the user")
	flag.Var(&tags, "t", "a name:tag (repeatable)")
	flag.Var(&env, "env", "K=V (repeatable)")
	flag.Var(&labels, "label", "K=V (repeatable)")
	flag.Parse()
	if err := run(*out, tags, *entrypoint, *cmd, *workdir, *user, env, labels, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(out string, tags []string, entrypoint, cmd, workdir, user string, env, labels, layers []string) error {
	if out == "" || len(tags) == 0 || len(layers) == 0 {
		return fmt.Errorf("need -o, at least one -t and at least one layer tarball")
	}
	img := empty.Image
	for _, path := range layers {
		layer, err := tarball.LayerFromFile(path)
		if err != nil {
			return fmt.Errorf("layer %s: %w", path, err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	c := &cf.Config
	if entrypoint != "" {
		if err := json.Unmarshal([]byte(entrypoint), &c.Entrypoint); err != nil {
			return fmt.Errorf("-entrypoint %q: not a JSON array of strings: %w", entrypoint, err)
		}
	}
	if cmd != "" {
		if err := json.Unmarshal([]byte(cmd), &c.Cmd); err != nil {
			return fmt.Errorf("-cmd %q: not a JSON array of strings: %w", cmd, err)
		}
	}
	c.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	c.WorkingDir, c.User = workdir, user
	if len(labels) > 0 {
		c.Labels = map[string]string{}
		for _, kv := range labels {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("-label %q: not K=V", kv)
			}
			c.Labels[k] = v
		}
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("-t %q: %w", t, err)
		}
		refs[tag] = img
	}
	tmp := out + ".part"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
