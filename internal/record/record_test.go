package record

import (
	"errors"
	"testing"

	"github.com/rendercache/rendercache/storage"
)

type thing struct{ N int }

var errMissing = errors.New("missing")

func TestRecordRoundTrip(t *testing.T) {
	db, err := storage.Open(t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := db.State()
	err = st.Apply(1, func(tx *storage.Tx) error {
		for i, k := range []string{"t/a", "t/b", "u/c"} {
			if err := Put(tx, k, thing{i}); err != nil {
				return err
			}
		}
		return DeletePrefix(tx, "u/")
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := Get[thing](st, "t/b", errMissing); err != nil || v.N != 1 {
		t.Fatalf("Get = %v, %v", v, err)
	}
	if _, err := Get[thing](st, "u/c", errMissing); !errors.Is(err, errMissing) {
		t.Fatalf("deleted record: %v", err)
	}
	keys, _ := Keys(st, "t/")
	if len(keys) != 2 || keys[0] != "a" || keys[1] != "b" {
		t.Fatalf("Keys = %v", keys)
	}
	list, _ := List[thing](st, "t/")
	if n, _ := Count(st, "t/"); n != 2 || len(list) != 2 {
		t.Fatalf("Count %d List %v", n, list)
	}
}
