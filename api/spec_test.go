package api_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/rendercache/rendercache/api"
)

// The embedded document is a valid OpenAPI 3 document, its examples
// (the seeds' among them) included, and the JSON form says the same.
func TestSpecIsValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.YAML())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	js, err := api.JSON()
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(js)
	if err != nil {
		t.Fatalf("load json: %v", err)
	}
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(fromJSON)
	if string(a) != string(b) {
		t.Fatal("the JSON form differs from the YAML document")
	}
}
