package plan

import "testing"

func TestDefaultsValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"free", "pro", "agency", "enterprise"} {
		if _, err := Defaults().Lookup(n); err != nil {
			t.Errorf("default plan %s missing: %v", n, err)
		}
	}
}

func TestMergeAndValidate(t *testing.T) {
	tests := []struct {
		name    string
		plans   Catalog
		wantErr bool
	}{
		{"redefine free", Catalog{"free": {Sites: 2}}, false},
		{"add custom", Catalog{"startup": {Sites: 3, MonthlyRenders: 5000}}, false},
		{"bad name", Catalog{"Big Plan": {}}, true},
		{"negative sites", Catalog{"x": {Sites: -5}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Merge(Defaults(), tt.plans)
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	c := Merge(Defaults(), Catalog{"free": {Sites: 2}})
	if p, _ := c.Lookup("free"); p.Sites != 2 || p.Name != "free" {
		t.Fatalf("free not redefined: %+v", p)
	}
}

func TestAllows(t *testing.T) {
	if !Allows(Unlimited, 1e6) || Allows(0, 0) || !Allows(1, 0) || Allows(1, 1) {
		t.Fatal("Allows is wrong")
	}
}
