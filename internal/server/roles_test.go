package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

const (
	modPath       = "github.com/koe-vote/koe/"
	storePath     = modPath + "internal/store"
	registrarPath = modPath + "internal/server/registrar"
	castboxPath   = modPath + "internal/server/castbox"
)

// listed is what go list says of a package.
type listed struct {
	ImportPath string
	Dir        string
	Export     string
	GoFiles    []string
	Deps       []string
}

// goList runs go list -deps -export on the packages and returns every
// package it lists, by import path.
func goList(t *testing.T, pkgs ...string) map[string]*listed {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the role separation check needs the go command: %v", err)
	}
	cmd := exec.Command("go", append([]string{"list", "-deps", "-export", "-json"}, pkgs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	all := map[string]*listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listed)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all[p.ImportPath] = p
	}
	return all
}

// storeUses type-checks a package from its sources and returns the names
// of package store's declarations it uses, methods included (a method of
// a store interface counts under its own name).
//
// A type assertion on a value of one of package store's types counts as
// a use of "assertion": it could reach a role the package was not given.
func storeUses(t *testing.T, all map[string]*listed, path string) (uses map[string]bool, store *types.Package) {
	t.Helper()
	p := all[path]
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		dep, ok := all[path]
		if !ok || dep.Export == "" {
			return nil, errors.New("no export data for " + path)
		}
		return os.Open(dep.Export)
	})
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}, Types: map[ast.Expr]types.TypeAndValue{}}
	pkg, err := (&types.Config{Importer: imp}).Check(path, fset, files, info)
	if err != nil {
		t.Fatalf("type-checking %s: %v", path, err)
	}
	uses = map[string]bool{}
	for _, obj := range info.Uses {
		if obj.Pkg() != nil && obj.Pkg().Path() == storePath {
			uses[obj.Name()] = true
		}
	}
	for _, sel := range info.Selections {
		if obj := sel.Obj(); obj.Pkg() != nil && obj.Pkg().Path() == storePath {
			uses[obj.Name()] = true
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if ta, ok := n.(*ast.TypeAssertExpr); ok {
				if named, ok := info.Types[ta.X].Type.(*types.Named); ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == storePath {
					uses["assertion"] = true
				}
			}
			return true
		})
	}
	for _, imp := range pkg.Imports() {
		if imp.Path() == storePath {
			store = imp
		}
	}
	return uses, store
}

// roleNames returns the names of role interfaces of package store and of
// their methods: what a package given other roles must not name.
func roleNames(t *testing.T, store *types.Package, roles ...string) []string {
	t.Helper()
	var names []string
	for _, role := range roles {
		obj := store.Scope().Lookup(role)
		if obj == nil {
			t.Fatalf("package store has no %s", role)
		}
		iface, ok := obj.Type().Underlying().(*types.Interface)
		if !ok {
			t.Fatalf("store.%s is not an interface", role)
		}
		names = append(names, role)
		for m := range iface.ExplicitMethods() {
			names = append(names, m.Name())
		}
	}
	return names
}

// TestRoleSeparation: the registrar's code and the ballot box's code are
// separate packages that do not import each other, and each names only
// its own part of the store (SPEC.md §15.5), and never asserts a store
// value to another type: the ballot box never store.Roll,
// store.Pending, store.Elections or store.Store, nor any of their
// methods; the registrar never store.Casts, store.Elections or
// store.Store. Breaking the separation fails here.
func TestRoleSeparation(t *testing.T) {
	all := goList(t, castboxPath, registrarPath)
	for _, c := range []struct{ pkg, other string }{{castboxPath, registrarPath}, {registrarPath, castboxPath}} {
		if slices.Contains(all[c.pkg].Deps, c.other) {
			t.Errorf("%s depends on %s", c.pkg, c.other)
		}
	}
	for _, c := range []struct {
		pkg       string
		forbidden []string // role interfaces of package store it must not reach
		need      string   // the role interface it is given
	}{
		{castboxPath, []string{"Roll", "Pending", "Elections", "Store"}, "Casts"},
		{registrarPath, []string{"Casts", "Elections", "Store"}, "Roll"},
	} {
		uses, store := storeUses(t, all, c.pkg)
		if store == nil || !uses[c.need] {
			t.Fatalf("%s does not use store.%s; the check has lost track of it", c.pkg, c.need)
		}
		var bad []string
		for _, name := range append(roleNames(t, store, c.forbidden...), "assertion") {
			if uses[name] {
				bad = append(bad, name)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("%s names %q of package store (\"assertion\": asserts a store value to another type), reaching another role's part", c.pkg, bad)
		}
	}
}
