package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and validates the configuration file at path. Keys absent from
// the file keep their defaults.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates configuration text; name is used in error
// messages as the file name.
func Parse(name string, data []byte) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, yamlError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return Config{}, yamlError(name, err)
	default:
		return Config{}, &Error{Msg: fmt.Sprintf("%s:%d: a second YAML document: the configuration is one document (remove the ---)", name, next.Line)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, yamlError(name, err)
	}
	parsed := cfg
	cfg.src = &source{name: name, root: &root, parsed: &parsed}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError rewrites yaml.v3's "line N: msg" errors as "file:N: msg", one
// per line, so editors and CI logs can jump to them.
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			msg := strings.Replace(sm[2], "field ", "unknown key ", 1)
			msg = strings.Replace(msg, " not found in type ", " (not a setting of ", 1)
			if strings.Contains(msg, "(not a setting of ") {
				msg += ")"
			}
			out = append(out, fmt.Sprintf("%s:%s: %s", name, sm[1], msg))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s", name, strings.TrimPrefix(m, "yaml: ")))
	}
	return &Error{Msg: strings.Join(out, "\n")}
}

// Error is a configuration error; its message carries file:line where known.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// source remembers where the configuration came from, to give validation
// errors a file:line.
type source struct {
	name   string
	root   *yaml.Node
	parsed *Config // the values as the file gave them
}

// fromFile reports whether the value at the dotted key path is still the
// one the file gave (a command-line flag may have replaced it since).
func (s *source) fromFile(c *Config, path string) bool {
	if s == nil || s.parsed == nil {
		return true
	}
	now, then := fieldAt(reflect.ValueOf(c).Elem(), path), fieldAt(reflect.ValueOf(s.parsed).Elem(), path)
	if !now.IsValid() || !then.IsValid() {
		return true
	}
	return reflect.DeepEqual(now.Interface(), then.Interface())
}

// fieldAt is the struct field at a dotted path of yaml names.
func fieldAt(v reflect.Value, path string) reflect.Value {
	for _, key := range strings.Split(path, ".") {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}
		}
		found := false
		for i := 0; i < v.NumField(); i++ {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == key {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}
		}
	}
	return v
}

// line returns the line of the key at the dotted path, or 0.
func (s *source) line(path string) int {
	if s == nil || s.root == nil || len(s.root.Content) == 0 {
		return 0
	}
	n := s.root.Content[0]
	line := 0
	for _, key := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// ByteSize is a size in bytes written as a plain number or with a kB, MB or
// GB suffix (powers of 1024, as in postgresql.conf).
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// ParseByteSize parses "1048576", "512kB", "64MB" or "1GB".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kB", 1 << 10}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want a number of bytes, or kB, MB, GB)", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(n * mult), nil
}
