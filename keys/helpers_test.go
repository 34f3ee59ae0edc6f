package keys

import "os"

func osWriteFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
