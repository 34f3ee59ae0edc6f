// Package proxy is pgmantle's PostgreSQL wire-protocol relay: it accepts
// clients exactly as PostgreSQL would, relays each session to its own
// upstream connection, and ties every server response to the client request
// it answers so that later stages can inspect and rewrite results.
//
// It stops at the protocol: it does not parse SQL (package parser), decide
// who may see what (package policy) or transform values (package masking).
// Those stages plug in through Server.Intercept.
//
// # A session
//
//	client                        pgmantle                         PostgreSQL
//	  |--- SSLRequest ------------->|  (S: TLS handshake / N)            |
//	  |    or a direct TLS handshake|  (ALPN "postgresql")               |
//	  |--- GSSENCRequest ---------->|  (N)                               |
//	  |--- StartupMessage 3.x ----->|  check TLS, client cert, no        |
//	  |                             |  replication; dial (TLS per config)|
//	  |                             |--- SSLRequest, StartupMessage 3.0 ->|
//	  |<-- Authentication* ---------|<-- Authentication* ----------------|
//	  |--- PasswordMessage/SASL* -->|--- (opaque, never decoded) ------->|  PostgreSQL checks the password
//	  |<-- AuthenticationOk --------|<-- AuthenticationOk ---------------|  role known: Server.Intercept
//	  |<-- ParameterStatus* --------|<-- ParameterStatus* ---------------|
//	  |<-- BackendKeyData (ours) ---|<-- BackendKeyData (kept) ----------|
//	  |<-- ReadyForQuery -----------|<-- ReadyForQuery ------------------|
//
// # Simple and extended query
//
//	|--- Query ------------------>| queue: [Query]  ------------------>|
//	|<-- RowDescription, DataRow*,|<-- ... CommandComplete (per stmt) -|
//	|<-- ReadyForQuery -----------|<-- ReadyForQuery  (pops Query) ----|
//
//	|--- Parse, Bind, Execute,    | queue: [Parse Bind Describe*      |
//	|    Parse, Bind, Execute,    |         Execute Parse Bind         |
//	|    Sync ------------------->|         Describe* Execute Sync] -->|  * injected by pgmantle when an
//	|<-- ParseComplete, ... ------|<-- one answer per queued entry ----|    interceptor needs columns; its
//	|<-- ReadyForQuery -----------|<-- ReadyForQuery ------------------|    answer is consumed
//
// After an ErrorResponse to an extended-protocol message, PostgreSQL skips
// everything until Sync; the queue drops the same entries.
//
// # COPY
//
//	  |--- Query COPY ... FROM STDIN>|---------------------------------->|
//	  |<-- CopyInResponse -----------|<----------------------------------|
//	  |--- CopyData*, CopyDone ----->|---------------------------------->|
//	  |<-- CommandComplete, RFQ -----|<----------------------------------|
//	COPY TO STDOUT: CopyOutResponse, CopyData* (through the interceptor),
//	CopyDone, CommandComplete, ReadyForQuery.
//
// # Cancel
//
//	other conn --- CancelRequest(our pid, our secret) --> pgmantle
//	  pgmantle looks the pair up among live sessions (constant-time secret
//	  compare) and sends CancelRequest(upstream pid, upstream secret) on a new
//	  upstream connection. Unknown keys are dropped silently.
//
// # Buffers and hot path
//
// Each direction reads framed messages into an 8 kB buffer without copying
// (a message is valid until the next read, the same contract as pgproto3)
// and writes through an 8 kB buffered writer that is flushed when no more
// input is buffered, and always at ReadyForQuery, ErrorResponse and COPY
// mode changes. Messages pgmantle does not change are forwarded as raw
// bytes; pgproto3 decodes only what it inspects. Without an interceptor a
// DataRow is never decoded.
package proxy
