package tenant

import (
	"sync"
	"testing"
)

// TestAuditKeyset pages through the log while another writer keeps adding
// events: the pages never repeat or skip an event older than the first
// page's newest, and ids strictly decrease.
func TestAuditKeyset(t *testing.T) {
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	for range 40 {
		if _, err := fx.tenants.Refresh(fx.ctx, as(a), "acme", RefreshAPI); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := fx.tenants.Refresh(fx.ctx, as(a), "acme", RefreshHTML); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var got []uint64
	var before uint64
	for {
		page, more, err := fx.tenants.Audit(fx.ctx, as(a), "acme", 7, before)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if len(got) > 0 && e.ID >= got[len(got)-1] {
				t.Fatalf("id %d after %d", e.ID, got[len(got)-1])
			}
			got = append(got, e.ID)
		}
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	close(stop)
	wg.Wait()
	// Every event at or below the first page's newest is still there (the
	// log is far below MaxAuditEvents): compare with one full read.
	all, _, err := fx.tenants.Audit(fx.ctx, as(a), "acme", MaxAuditPage, got[0]+1)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(got) {
		t.Fatalf("paged %d events, %d exist at or below id %d", len(got), len(all), got[0])
	}
	for i := range all {
		if all[i].ID != got[i] {
			t.Fatalf("event %d: paged id %d, stored %d", i, got[i], all[i].ID)
		}
	}
	_, _, err = fx.tenants.Audit(fx.ctx, as(a), "acme", 0, 0)
	wantKind(t, "limit 0", err, ErrBadLimit.Kind)
	_, _, err = fx.tenants.Audit(fx.ctx, as(a), "acme", MaxAuditPage+1, 0)
	wantKind(t, "limit 201", err, ErrBadLimit.Kind)
}

// TestAuditBounded: a tenant keeps MaxAuditEvents, the newest.
func TestAuditBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes MaxAuditEvents events")
	}
	fx := newFixture(t, private)
	a := fx.account(t, "a@example.com")
	fx.create(t, a, "acme")
	var last uint64
	for range MaxAuditEvents + 5 {
		if _, err := fx.tenants.Refresh(fx.ctx, as(a), "acme", RefreshAPI); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for before := uint64(0); ; {
		page, more, err := fx.tenants.Audit(fx.ctx, as(a), "acme", MaxAuditPage, before)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			last = page[0].ID
		}
		n += len(page)
		if !more {
			if page[len(page)-1].ID != last-MaxAuditEvents+1 {
				t.Fatalf("oldest kept %d, newest %d", page[len(page)-1].ID, last)
			}
			break
		}
		before = page[len(page)-1].ID
	}
	if n != MaxAuditEvents {
		t.Fatalf("kept %d events, want %d", n, MaxAuditEvents)
	}
}
