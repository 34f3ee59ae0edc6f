package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestREADMEConfigurationReference keeps the README's configuration
// reference true: it decodes strictly (no unknown key, no value of the
// wrong type), and every key pgmantle reads is in it.
func TestREADMEConfigurationReference(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := referenceBlock(t, string(data))

	// The reference lists alternatives side by side (keys.file and
	// keys.vault) and names files that do not exist here, so it is decoded
	// as Parse decodes (strictly) but not validated.
	cfg := Default()
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("the README's configuration reference does not decode:\n%v", yamlError("README.md", err))
	}
	for _, key := range yamlKeys(reflect.TypeFor[Config](), "") {
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !regexp.MustCompile(`(^|[\s{,])` + regexp.QuoteMeta(leaf) + `:`).MatchString(block) {
			t.Errorf("the README's configuration reference does not mention %s", key)
		}
	}
}

// referenceBlock is the first yaml code block after the "Configuration
// reference" heading.
func referenceBlock(t *testing.T, readme string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "## Configuration reference")
	if !ok {
		t.Fatal("README: no Configuration reference section")
	}
	_, after, ok = strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("README: no yaml block in the Configuration reference")
	}
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("README: unterminated yaml block")
	}
	return block
}

// yamlKeys lists the dotted yaml keys of a struct type, nested structs
// included.
func yamlKeys(typ reflect.Type, prefix string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	var keys []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		keys = append(keys, key)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == typ.PkgPath() {
			keys = append(keys, yamlKeys(ft, key+".")...)
		}
	}
	return keys
}
