package audithook

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pgmantle/pgmantle/audit"
	"github.com/pgmantle/pgmantle/proxy"
)

// BenchmarkStatement is the audit cost of one pgbench -S statement in an
// unrestricted session: normalization (a shape-cache hit after the first),
// the record, and the writer's encoding, hashing and writing (on the
// writer's goroutine, with a file sink and interval sync).
func BenchmarkStatement(b *testing.B) {
	sink, err := audit.OpenFileSink(filepath.Join(b.TempDir(), "audit.log"), 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	w, err := audit.NewWriter(sink, audit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := &Hook{Writer: w}
	info := &proxy.SessionInfo{ID: 1, RemoteAddr: "127.0.0.1:5555", User: "postgres", Database: "postgres",
		StartupParams: map[string]string{"application_name": "pgbench"}}
	s := h.Open(info)
	sqls := make([]string, 1024)
	for i := range sqls {
		sqls[i] = "SELECT abalance FROM pgbench_accounts WHERE aid = " + strconv.Itoa(i*7919%100000) + ";"
	}
	param := func(name string) string {
		if name == "client_encoding" {
			return "UTF8"
		}
		return "on"
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Statement(&proxy.StatementEvent{SQL: sqls[i%len(sqls)], Protocol: proxy.ProtocolSimple, Outcome: proxy.OutcomeOK,
			Tag: []byte("SELECT 1"), Rows: 1, Bytes: 20, Start: now, End: now, Param: param})
		s.Synced()
	}
	b.StopTimer()
	s.Ended("normal")
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
