package pagestore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rendercache/rendercache/storage"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T, dir string, limit int64, c *clock) (*storage.DB, *Store) {
	t.Helper()
	db, err := storage.Open(dir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(db.Local(), Options{Limit: limit, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return db, s
}

func TestPutGetExpireAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	db, s := open(t, dir, 1<<20, c)
	if err := s.Put("render/a.com/1/desktop/x", []byte("page-x"), c.t.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("render/a.com/1/desktop/y", []byte("page-y"), c.t.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Replacing a key keeps one entry.
	if err := s.Put("render/a.com/1/desktop/x", []byte("page-x2"), c.t.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, n := s.Size(); n != 2 {
		t.Fatalf("entries = %d, want 2", n)
	}
	v, _, ok, err := s.Get("render/a.com/1/desktop/x")
	if err != nil || !ok || string(v) != "page-x2" {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// A reopened store has the pages and counts them.
	db, s = open(t, dir, 1<<20, c)
	defer db.Close()
	if b, n := s.Size(); n != 2 || b != int64(len("render/a.com/1/desktop/x")+len("page-x2")+len("render/a.com/1/desktop/y")+len("page-y")) {
		t.Fatalf("after reopen Size = %d bytes, %d entries", b, n)
	}
	// Past its expiry a page is gone for Get and Scan, and Sweep deletes it.
	c.t = c.t.Add(2 * time.Minute)
	if _, _, ok, _ := s.Get("render/a.com/1/desktop/y"); ok {
		t.Fatal("expired entry returned")
	}
	var keys []string
	if _, err := s.Scan("render/a.com/", "", 0, func(e Entry) bool { keys = append(keys, e.Key); return true }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "render/a.com/1/desktop/x" {
		t.Fatalf("Scan = %v", keys)
	}
	if n, err := s.Sweep(); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	if _, n := s.Size(); n != 1 {
		t.Fatalf("entries after sweep = %d", n)
	}
}

func TestEvictsSoonestExpiringPastLimit(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	db, s := open(t, t.TempDir(), 1000, c)
	defer db.Close()
	body := bytes.Repeat([]byte("x"), 190) // ~200 bytes per entry with its key
	for i := range 10 {
		if err := s.Put(fmt.Sprintf("k%02d", i), body, c.t.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	b, n := s.Size()
	if b > 1000 {
		t.Fatalf("size %d over limit", b)
	}
	if n != 5 {
		t.Fatalf("entries = %d, want 5", n)
	}
	// The survivors are the ones with the most life left.
	for i := range 10 {
		_, _, ok, _ := s.Get(fmt.Sprintf("k%02d", i))
		if ok != (i >= 5) {
			t.Fatalf("k%02d present=%v", i, ok)
		}
	}
}

func TestScanPaginatesAndDeletePrefix(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	db, s := open(t, t.TempDir(), 1<<20, c)
	defer db.Close()
	for i := range 25 {
		if err := s.Put(fmt.Sprintf("d/a/%02d", i), []byte("v"), c.t.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put("d/b/0", []byte("v"), c.t.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var all []string
	after := ""
	for {
		var page []string
		more, err := s.Scan("d/a/", after, 10, func(e Entry) bool { page = append(page, e.Key); return true })
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if !more {
			break
		}
		after = page[len(page)-1]
	}
	if len(all) != 25 || all[0] != "d/a/00" || all[24] != "d/a/24" {
		t.Fatalf("paginated scan = %d keys: %v", len(all), all)
	}
	if n, err := s.DeletePrefix("d/a/"); err != nil || n != 25 {
		t.Fatalf("DeletePrefix = %d, %v", n, err)
	}
	if _, n := s.Size(); n != 1 {
		t.Fatalf("entries = %d, want 1", n)
	}
}
