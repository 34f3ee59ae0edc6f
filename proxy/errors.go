package proxy

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// SQLSTATE codes pgmantle itself reports.
const (
	codeProtocolViolation      = "08P01"
	codeInsufficientPrivilege  = "42501"
	codeConnectionFailure      = "08006"
	codeCannotConnect          = "08001"
	codeInvalidAuthorization   = "28000"
	codeFeatureNotSupported    = "0A000"
	codeAdminShutdown          = "57P01"
	codeInternalError          = "XX000"
	codeProgramLimitExceeded   = "54000"
	codeTooManyConnections     = "53300"
	codeInvalidParameterValue  = "22023"
	codeQueryCanceled          = "57014"
	codeConfigurationFileError = "F0000"
)

// Error is an error pgmantle reports to a client. Its Message is shown to
// the client and must never contain a query value, a password or a key.
// Err, if set, is the underlying cause; it is logged, never sent.
type Error struct {
	Severity string // FATAL or ERROR
	Code     string // SQLSTATE
	Message  string
	Detail   string
	Hint     string
	Err      error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %v", e.Message, e.Code, e.Err)
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

func fatalf(code string, cause error, format string, args ...any) *Error {
	return &Error{Severity: "FATAL", Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// errorResponse converts any error into the ErrorResponse a client sees.
// This is the only place where errors become protocol messages. Errors that
// are not *Error are reported as an internal error without their text, so
// that nothing unvetted (which might hold a value) reaches a client.
func errorResponse(err error) *pgproto3.ErrorResponse {
	var pe *Error
	if !errors.As(err, &pe) {
		pe = fatalf(codeInternalError, err, "pgmantle: internal error")
	}
	sev := pe.Severity
	if sev == "" {
		sev = "ERROR"
	}
	return &pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                pe.Code,
		Message:             pe.Message,
		Detail:              pe.Detail,
		Hint:                pe.Hint,
	}
}

// appendError encodes err as an ErrorResponse onto dst.
func appendError(dst []byte, err error) []byte {
	out, encErr := errorResponse(err).Encode(dst)
	if encErr != nil { // cannot happen for the fields we set
		return dst
	}
	return out
}
