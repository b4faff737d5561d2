package bounded

import "testing"

// The map holds at most its maximum: the insertion past it starts over,
// replacing an existing key does not, and lookups by string and by bytes
// agree without allocating.
func TestMap(t *testing.T) {
	m := New[int](2)
	m.Put("a", 1)
	m.Put("b", 2)
	m.Put("b", 3) // a replacement, not an insertion
	if v, ok := m.Get("b"); !ok || v != 3 || m.Len() != 2 {
		t.Fatalf("b = %d %v, len %d", v, ok, m.Len())
	}
	m.Put("c", 4)
	if _, ok := m.Get("a"); ok || m.Len() != 1 {
		t.Fatalf("the third key did not start the map over (len %d)", m.Len())
	}
	key := []byte("c")
	if v, ok := m.GetBytes(key); !ok || v != 4 {
		t.Fatalf("GetBytes(c) = %d %v", v, ok)
	}
	if n := testing.AllocsPerRun(100, func() { m.GetBytes(key) }); n != 0 {
		t.Fatalf("GetBytes allocates %v", n)
	}
}
