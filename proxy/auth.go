package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Authentication request codes (PostgreSQL src/include/libpq/protocol.h).
const (
	authOk                = 0
	authCleartextPassword = 3
	authMD5Password       = 5
	authSASL              = 10
	authSASLContinue      = 11
	authSASLFinal         = 12
)

// errLoginFailed marks a login that PostgreSQL refused; its ErrorResponse
// has already been relayed to the client verbatim.
var errLoginFailed = errors.New("login refused by PostgreSQL")

// authenticate relays the authentication exchange between client and
// PostgreSQL and then the session's startup messages up to the first
// ReadyForQuery. PostgreSQL verifies the password; pgmantle forwards the
// client's password messages as opaque bytes and never decodes, stores or
// logs them.
func (ss *session) authenticate() error {
	if err := ss.negotiateProtocol(); err != nil {
		return err
	}
	for {
		m, err := ss.sr.next()
		if err != nil {
			return ss.upstreamLost(err)
		}
		switch m.typ {
		case 'R':
			if err := ss.relayAuthRequest(m); err != nil {
				return err
			}
		case 'E':
			ss.loginCode = string(errorField(m.body, 'C'))
			ss.cw.Write(m.raw)
			ss.cw.Flush()
			return errLoginFailed
		case 'S':
			ss.recordParameter(m.body)
			ss.cw.Write(m.raw)
		case 'N':
			ss.cw.Write(m.raw)
		case 'K':
			if err := ss.replaceBackendKey(m.body); err != nil {
				return err
			}
		case 'Z':
			if len(m.body) != 1 {
				return fatalf(codeProtocolViolation, nil, "invalid ReadyForQuery from server")
			}
			status := m.body[0]
			ss.txStatus.Store(uint32(status))
			if err := ss.probeSession(); err != nil {
				return err
			}
			ss.cw.Write([]byte{'Z', 0, 0, 0, 5, status})
			return ss.cw.Flush()
		default:
			return fatalf(codeProtocolViolation, fmt.Errorf("message %q during startup", m.typ),
				"unexpected message from the PostgreSQL server during startup")
		}
		if ss.sr.buffered() == 0 {
			if err := ss.cw.Flush(); err != nil {
				return err
			}
		}
	}
}

// probeQuery reads what SessionProber needs. current_setting is qualified:
// a search_path set at startup could otherwise put another function of
// that name first; current_user and session_user are keywords.
//
// The fourth column names the planner method switches the client turned
// off in its startup packet (options=-c enable_hashagg=off), which can
// make PostgreSQL group by sorting, so that grouped rows come back in the
// order of the values grouped, and the planner cost settings it set
// there (seq_page_cost=1e12), which can outweigh the penalty on disabled
// index scans.
const probeQuery = "SELECT pg_catalog.current_setting('search_path'), current_user, session_user, " +
	"(SELECT pg_catalog.string_agg(name, ',') FROM pg_catalog.pg_settings WHERE source = 'client' AND (" +
	"(name LIKE 'enable\\_%' AND setting = 'off') OR name LIKE '%\\_cost' OR " +
	"name IN ('effective_cache_size', 'min_parallel_table_scan_size', 'min_parallel_index_scan_size')))"

// probeSession asks PostgreSQL for the session's search_path and roles,
// for an interceptor that needs them (SessionProber), before the client
// gets its first ReadyForQuery. Its answers are consumed.
func (ss *session) probeSession() error {
	recv, ok := ss.ic.(SessionProber)
	if !ok {
		return nil
	}
	buf, err := (&pgproto3.Query{String: probeQuery}).Encode(nil)
	if err != nil {
		return fmt.Errorf("encode Query: %w", err)
	}
	if _, err := ss.sw.Write(buf); err != nil {
		return ss.upstreamLost(err)
	}
	if err := ss.sw.Flush(); err != nil {
		return ss.upstreamLost(err)
	}
	var values []string
	failed := false
	for {
		m, err := ss.sr.next()
		if err != nil {
			return ss.upstreamLost(err)
		}
		switch m.typ {
		case 'D':
			var row pgproto3.DataRow
			if err := row.Decode(m.body); err == nil && len(row.Values) == 4 {
				for _, v := range row.Values {
					values = append(values, string(v)) // NULL: ""
				}
			}
		case 'E':
			failed = true
		case 'S':
			if err := ss.relayServerMessage(m); err != nil {
				return err
			}
		case 'Z':
			if failed || len(values) != 4 {
				return fatalf(codeInternalError, nil, "pgmantle could not read the session's search_path and role, so it cannot protect the session")
			}
			ss.info.EffectiveRole = values[1]
			return recv.ProbeSession(SessionProbe{SearchPath: values[0], CurrentUser: values[1], SessionUser: values[2],
				PlannerOff: values[3], ClientEncoding: ss.Parameter("client_encoding"), DateStyle: ss.Parameter("DateStyle")})
		}
	}
}

// negotiateProtocol tells a client that asked for protocol 3.x (x > 0) or
// for _pq_ options that this session speaks 3.0 without them, as
// PostgreSQL's NegotiateProtocolVersion does.
func (ss *session) negotiateProtocol() error {
	if ss.hello.minor == 0 && len(ss.hello.pqOptions) == 0 {
		return nil
	}
	// PostgreSQL sends the whole version number here (3.0 = 196608), not
	// just the minor version, and libpq 18 refuses a value below 3.0.
	npv := pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: pgproto3.ProtocolVersion30, UnrecognizedOptions: ss.hello.pqOptions}
	buf, err := npv.Encode(nil)
	if err != nil {
		return fmt.Errorf("encode NegotiateProtocolVersion: %w", err)
	}
	_, err = ss.cw.Write(buf)
	return err
}

// relayAuthRequest forwards one authentication request to the client and,
// where the method expects one, relays the client's answer upstream.
func (ss *session) relayAuthRequest(m message) error {
	if len(m.body) < 4 {
		return fatalf(codeProtocolViolation, nil, "invalid authentication request from server")
	}
	switch code := binary.BigEndian.Uint32(m.body); code {
	case authOk:
		ss.cw.Write(m.raw)
		return ss.authenticated()
	case authCleartextPassword, authMD5Password, authSASLContinue:
		ss.cw.Write(m.raw)
		return ss.relayClientAuthResponse()
	case authSASL:
		var sasl pgproto3.AuthenticationSASL
		if err := sasl.Decode(m.body); err != nil {
			return fatalf(codeProtocolViolation, err, "invalid SASL request from server")
		}
		mechs := sasl.AuthMechanisms[:0]
		for _, mech := range sasl.AuthMechanisms {
			// Channel binding ties SCRAM to the TLS session it runs in; a
			// TLS-terminating proxy sits between two different sessions, so
			// only the non-binding mechanism can pass through.
			if !strings.HasSuffix(mech, "-PLUS") {
				mechs = append(mechs, mech)
			}
		}
		if len(mechs) == 0 {
			return fatalf(codeFeatureNotSupported, nil,
				"the server offers only channel-binding SASL mechanisms, which cannot pass through pgmantle")
		}
		sasl.AuthMechanisms = mechs
		buf, err := sasl.Encode(ss.scratch[:0])
		if err != nil {
			return fmt.Errorf("encode SASL request: %w", err)
		}
		ss.cw.Write(buf)
		return ss.relayClientAuthResponse()
	case authSASLFinal:
		ss.cw.Write(m.raw)
		return nil
	default:
		return fatalf(codeFeatureNotSupported, nil,
			"authentication method %d requested by the server is not supported by pgmantle", code)
	}
}

// relayClientAuthResponse flushes the pending request to the client and
// forwards its single answer (PasswordMessage, SASLInitialResponse or
// SASLResponse, all type 'p') upstream untouched.
func (ss *session) relayClientAuthResponse() error {
	if err := ss.cw.Flush(); err != nil {
		return err
	}
	m, err := ss.cr.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			// psql and others hang up to prompt for a password and reconnect.
			return errClientGone
		}
		return ss.clientReadError(err)
	}
	if m.typ != 'p' {
		return fatalf(codeProtocolViolation, nil, "expected password response, got message type %q", m.typ)
	}
	if _, err := ss.sw.Write(m.raw); err != nil {
		return ss.upstreamLost(err)
	}
	if err := ss.sw.Flush(); err != nil {
		return ss.upstreamLost(err)
	}
	return nil
}
