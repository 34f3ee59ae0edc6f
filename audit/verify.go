package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Entry is a record as read back from the log.
type Entry struct {
	Seq             uint64   `json:"seq"`
	Prev            string   `json:"prev"`
	Time            string   `json:"time"`
	Type            string   `json:"type"`
	Session         uint64   `json:"session"`
	Client          string   `json:"client"`
	Role            string   `json:"role"`
	EffectiveRole   string   `json:"effective_role"`
	Database        string   `json:"database"`
	ApplicationName string   `json:"application_name"`
	Kind            string   `json:"kind"`
	Protocol        string   `json:"protocol"`
	SQL             string   `json:"sql"`
	Fingerprint     string   `json:"fingerprint"`
	SQLHash         string   `json:"sql_hash"`
	Tables          []string `json:"tables"`
	Columns         []string `json:"columns"`
	Classes         []string `json:"classes"`
	Decision        string   `json:"decision"`
	Reason          string   `json:"reason"`
	Masks           []string `json:"masks"`
	Rows            int64    `json:"rows"`
	Bytes           int64    `json:"bytes"`
	DurationUS      int64    `json:"duration_us"`
	SQLState        string   `json:"sqlstate"`
	PolicyGen       uint64   `json:"policy_generation"`
	Recovered       bool     `json:"recovered"`
	TruncatedBytes  int64    `json:"truncated_bytes"`
	Chain           string   `json:"chain"`
	KeyVersion      int      `json:"key_version"`
	Count           uint64   `json:"count"`
}

// Broken describes where a chain breaks.
type Broken struct {
	File string
	Line int    // 1-based line in File
	Seq  uint64 // the sequence number the record should have had
	Why  string
}

func (b *Broken) Error() string {
	return fmt.Sprintf("%s:%d: record %d: %s", b.File, b.Line, b.Seq, b.Why)
}

// Summary is what Verify found on an intact chain.
type Summary struct {
	Records   int    // records verified
	First     uint64 // sequence number of the first
	Last      uint64
	Anchored  bool // the chain starts at the log's first record (seq 1)
	Closed    bool // the last record is a close record
	Restarts  int  // open records after the first (restarts continuing the chain)
	Recovered int  // restarts after an interrupted run
	Keyed     int  // runs chained with HMAC-SHA256 (and verified with their key)
	// Live: a pgmantle holds the last file open: the log is being written,
	// so it has no close record yet and its last line may be half-written.
	Live bool
}

// chainKey returns the key an open record's run chains with (nil: SHA-256).
func chainKey(e Entry, opts VerifyOptions) ([]byte, error) {
	switch e.Chain {
	case "":
		if opts.RequireKeyed {
			return nil, fmt.Errorf("this run is chained with plain SHA-256, but keyed chains are required")
		}
		return nil, nil
	case ChainHMAC:
		if opts.Key == nil {
			return nil, fmt.Errorf("this run is chained with HMAC-SHA256 under audit key version %d: give the keys (--config or --keys-file) to verify it", e.KeyVersion)
		}
		key, err := opts.Key(e.KeyVersion)
		if err != nil {
			return nil, fmt.Errorf("audit key version %d: %w", e.KeyVersion, err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("unknown chain %q", e.Chain)
}

// Verify reads the given files (in any order: they are put in chain order
// by their first record) and checks the chain: every record parses, its
// sequence number follows the previous one and its prev is the SHA-256 of
// the previous line. The first record of the earliest file anchors the
// chain (its prev is trusted unless it is record 1). The last file must
// end with a close record unless open is true (the log is still being
// written). It returns the first break as *Broken.
func Verify(files []string, open bool) (Summary, error) {
	return VerifyWith(files, VerifyOptions{Open: open})
}

// VerifyOptions adjust Verify.
type VerifyOptions struct {
	// Open accepts a log that does not end with a close record.
	Open bool
	// Key returns the audit key of a version, for runs chained with
	// HMAC-SHA256; nil when no keys are at hand.
	Key func(version int) ([]byte, error)
	// RequireKeyed refuses runs chained with plain SHA-256 (which anyone
	// who edits the log can recompute).
	RequireKeyed bool
	// Live says the log is being written (known otherwise than by the
	// last file's lock, as for an exported table).
	Live bool
	// Head, if set, is an anchor kept outside the log: a record pgmantle
	// reported writing (its log line "audit chain head"). The log must
	// hold it, unchanged: a cut at a clean-looking place (back to an
	// earlier run's close record, or followed by a restart that looks
	// like a crash) is caught only this way.
	Head *Head
}

// Head is a chain head pgmantle logged: a record's sequence number and
// the chain hash of its line (the next record's prev).
type Head struct {
	Seq  uint64
	Hash string
}

// ParseHead reads a head written SEQ:HASH.
func ParseHead(s string) (*Head, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || len(hash) != 64 || strings.Trim(strings.ToLower(hash), "0123456789abcdef") != "" {
		return nil, fmt.Errorf("a chain head is SEQ:HASH, a record number and 64 hex digits, as pgmantle logs it (\"audit chain head\")")
	}
	return &Head{Seq: n, Hash: strings.ToLower(hash)}, nil
}

// VerifyWith is Verify with options.
func VerifyWith(files []string, opts VerifyOptions) (Summary, error) {
	open := opts.Open
	type fileHead struct {
		name  string
		first uint64
	}
	var heads []fileHead
	for _, name := range files {
		first, err := firstSeq(name)
		if err != nil {
			return Summary{}, err
		}
		heads = append(heads, fileHead{name, first})
	}
	sort.SliceStable(heads, func(i, j int) bool { return heads[i].first < heads[j].first })

	var s Summary
	if len(heads) > 0 && (opts.Live || InUse(heads[len(heads)-1].name)) {
		s.Live, open = true, true
	}
	var prevLine []byte
	var lastType, prevFile string
	headSeen := false
	prevLineNo := 0
	chain := newChainer(nil)
	for _, h := range heads {
		f, err := os.Open(h.name)
		if err != nil {
			return s, err
		}
		r := bufio.NewReaderSize(f, 1<<20)
		lineNo := 0
		for {
			line, err := r.ReadBytes('\n')
			if err == io.EOF && len(line) == 0 {
				break
			}
			lineNo++
			want := s.Last + 1
			if s.Records == 0 {
				want = 0
			}
			if err == io.EOF && s.Live && h.name == heads[len(heads)-1].name {
				break // a record being written right now
			}
			if err == io.EOF {
				f.Close()
				return s, &Broken{h.name, lineNo, max(want, 1), "incomplete record at the end of the file (cut short: a crash or a full disk while writing, or the file was truncated); restarting pgmantle removes it and notes it in the next open record"}
			}
			if err != nil {
				f.Close()
				return s, err
			}
			line = line[:len(line)-1]
			var e Entry
			if err := json.Unmarshal(line, &e); err != nil || e.Seq == 0 || len(e.Prev) != 64 {
				f.Close()
				return s, &Broken{h.name, lineNo, max(want, 1), "not a valid record (edited or inserted)"}
			}
			if e.Type == TypeOpen {
				// The open record declares how its run chains, its own
				// prev included.
				key, err := chainKey(e, opts)
				if err != nil {
					f.Close()
					return s, &Broken{h.name, lineNo, e.Seq, err.Error()}
				}
				chain = newChainer(key)
				if key != nil {
					s.Keyed++
				}
			}
			if s.Records == 1 && lastType != TypeOpen && e.Type != TypeOpen && chain.mac == nil && (opts.Key != nil || opts.RequireKeyed) {
				// The files start inside a run whose open record is in a
				// file not given: find the key version it chains with.
				if c := guessChain(prevLine, e.Prev, opts); c != nil {
					chain = c
					s.Keyed++
				} else if opts.RequireKeyed {
					f.Close()
					return s, &Broken{h.name, lineNo, e.Seq, "the chain is not keyed with any audit key, but keyed chains are required"}
				}
			}
			switch {
			case s.Records == 0:
				s.First = e.Seq
				s.Anchored = e.Seq == 1
				if e.Seq == 1 && e.Prev != genesis {
					f.Close()
					return s, &Broken{h.name, lineNo, 1, "the first record does not start a chain"}
				}
			case e.Seq != want:
				f.Close()
				return s, &Broken{h.name, lineNo, want, fmt.Sprintf("found record %d: records were removed, inserted or reordered before it", e.Seq)}
			case e.Prev != chain.link(prevLine):
				f.Close()
				return s, &Broken{prevFile, prevLineNo, want - 1, "its content does not match the hash the next record holds (edited, or replaced)"}
			}
			if e.Type == TypeOpen && s.Records > 0 {
				s.Restarts++
				if e.Recovered {
					s.Recovered++
				} else if lastType != TypeClose {
					f.Close()
					return s, &Broken{h.name, lineNo, e.Seq, "a restart follows a run that did not end with a close record, yet it claims a clean start"}
				}
			}
			if lastType == TypeClose && e.Type != TypeOpen {
				f.Close()
				return s, &Broken{h.name, lineNo, e.Seq, "a record follows a close record without an open record"}
			}
			if opts.Head != nil && e.Seq == opts.Head.Seq {
				if chain.link(line) != opts.Head.Hash {
					f.Close()
					return s, &Broken{h.name, lineNo, e.Seq, "it does not match the chain head pgmantle logged for it (--head): the log was rewritten from here back"}
				}
				headSeen = true
			}
			prevLine = append(prevLine[:0], line...)
			prevFile, prevLineNo = h.name, lineNo
			lastType = e.Type
			s.Last = e.Seq
			s.Records++
		}
		f.Close()
	}
	if s.Records == 0 {
		return s, fmt.Errorf("no records")
	}
	if opts.Head != nil && !headSeen {
		last := heads[len(heads)-1].name
		if opts.Head.Seq > s.Last {
			return s, &Broken{last, 0, s.Last + 1, fmt.Sprintf("the log ends at record %d, but pgmantle logged writing record %d (--head): records were removed from its end", s.Last, opts.Head.Seq)}
		}
		return s, fmt.Errorf("the chain head's record %d is not in the files given (they hold records %d to %d)", opts.Head.Seq, s.First, s.Last)
	}
	s.Closed = lastType == TypeClose
	if !s.Closed && !open {
		last := heads[len(heads)-1].name
		return s, &Broken{last, 0, s.Last + 1, fmt.Sprintf("the log ends at record %d without a close record: records after it were removed, or pgmantle is still writing it (use --open) or stopped without closing it (its next start records that)", s.Last)}
	}
	return s, nil
}

// firstSeq reads the sequence number of a file's first record (0 for an
// empty file or one whose first line is not a record).
func firstSeq(name string) (uint64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64<<10).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return 0, err
	}
	var e struct {
		Seq uint64 `json:"seq"`
	}
	json.Unmarshal(bytes.TrimSpace(line), &e)
	return e.Seq, nil
}

// guessChain finds the audit key version under which line links to prev.
func guessChain(line []byte, prev string, opts VerifyOptions) *chainer {
	if opts.Key == nil {
		return nil
	}
	for v := 1; v <= 256; v++ {
		key, err := opts.Key(v)
		if err != nil {
			continue
		}
		if c := newChainer(key); c.link(line) == prev {
			return c
		}
	}
	return nil
}
