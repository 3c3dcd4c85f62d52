package main

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// runSchema is docs/whyoffline-v1.schema.json, compiled by a JSON Schema
// (draft 2020-12) validator with format assertions on.
func runSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open("../../docs/whyoffline-v1.schema.json")
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if schemaErr = c.AddResource("whyoffline-v1.schema.json", doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile("whyoffline-v1.schema.json")
	})
	if schemaErr != nil {
		t.Fatalf("the schema: %v", schemaErr)
	}
	return schema
}

// checkSchema validates a -o json document, or every line of -o jsonl,
// against the schema.
func checkSchema(t *testing.T, what, out string) {
	t.Helper()
	s := runSchema(t)
	docs := []string{out}
	if !strings.HasPrefix(strings.TrimSpace(out), "{\n") { // jsonl: one document a line
		docs = nil
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				docs = append(docs, line)
			}
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: nothing to validate", what)
	}
	for i, d := range docs {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(d)))
		if err != nil {
			t.Fatalf("%s: document %d is not JSON: %v", what, i+1, err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: document %d does not validate against docs/whyoffline-v1.schema.json: %v", what, i+1, err)
		}
	}
}

// TestSchemaRejectsDrift: the schema is strict enough to catch a field
// the code writes but the schema does not know, or a status outside the
// contract.
func TestSchemaRejectsDrift(t *testing.T) {
	s := runSchema(t)
	for _, bad := range []string{
		`{"schema":"whyoffline/v1","started":"2026-12-06T00:00:00Z","finished":"2026-12-06T00:00:01Z","manager":null,"fleet":[],"summary":{"hosts":0,"healthy":0,"diagnosed":0,"unreachable":0,"error":0},"hosts":[],"surprise":1}`,
		`{"name":"a","address":"a","os":"linux","transport":"ssh","status":"fine","duration_ms":1,"causes":[],"checks":[],"error":null}`,
		`{"name":"a","address":"a","os":"linux","transport":"ssh","status":"error","duration_ms":1,"causes":[],"checks":[],"error":{"kind":"oops","message":"x"}}`,
	} {
		v, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if s.Validate(v) == nil {
			t.Errorf("the schema accepts %s", bad)
		}
	}
}
