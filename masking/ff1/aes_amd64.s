#include "textflag.h"

// func encryptBlocks1(nr int, rk *byte, x *byte)
TEXT ·encryptBlocks1(SB), NOSPLIT, $0-24
	MOVQ nr+0(FP), CX
	MOVQ rk+8(FP), AX
	MOVQ x+16(FP), BX
	MOVUPS 0(BX), X0
	MOVUPS 0(AX), X8
	PXOR X8, X0
	ADDQ $16, AX
	DECQ CX

loop1:
	MOVUPS 0(AX), X8
	AESENC X8, X0
	ADDQ $16, AX
	DECQ CX
	JNZ loop1
	MOVUPS 0(AX), X8
	AESENCLAST X8, X0
	MOVUPS X0, 0(BX)
	RET

// func subWordAESNI(x uint32) uint32
TEXT ·subWordAESNI(SB), NOSPLIT, $0-12
	MOVL x+0(FP), AX
	MOVL AX, X0
	PSHUFD $0, X0, X0
	PXOR X1, X1
	AESENCLAST X1, X0
	MOVL X0, AX
	MOVL AX, ret+8(FP)
	RET

// func encryptHalves8(nr int, rk *byte, hi uint64, x *[8]uint64)
// Eight blocks whose first eight bytes are hi's (as stored little-endian)
// and whose last eight are x[l]'s, built in registers (a block stored in
// two halves and loaded whole would wait for both stores) and enciphered
// interleaved, so that the AES units' pipelines overlap them; each x[l]
// is replaced by its ciphertext's first eight bytes read big-endian.
TEXT ·encryptHalves8(SB), NOSPLIT, $0-32
	MOVQ nr+0(FP), CX
	MOVQ rk+8(FP), AX
	MOVQ hi+16(FP), DX
	MOVQ x+24(FP), BX
	MOVQ DX, X0
	PINSRQ $1, 0(BX), X0
	MOVQ DX, X1
	PINSRQ $1, 8(BX), X1
	MOVQ DX, X2
	PINSRQ $1, 16(BX), X2
	MOVQ DX, X3
	PINSRQ $1, 24(BX), X3
	MOVQ DX, X4
	PINSRQ $1, 32(BX), X4
	MOVQ DX, X5
	PINSRQ $1, 40(BX), X5
	MOVQ DX, X6
	PINSRQ $1, 48(BX), X6
	MOVQ DX, X7
	PINSRQ $1, 56(BX), X7
	MOVUPS 0(AX), X8
	PXOR X8, X0
	PXOR X8, X1
	PXOR X8, X2
	PXOR X8, X3
	PXOR X8, X4
	PXOR X8, X5
	PXOR X8, X6
	PXOR X8, X7
	ADDQ $16, AX
	DECQ CX

loop8:
	MOVUPS 0(AX), X8
	AESENC X8, X0
	AESENC X8, X1
	AESENC X8, X2
	AESENC X8, X3
	AESENC X8, X4
	AESENC X8, X5
	AESENC X8, X6
	AESENC X8, X7
	ADDQ $16, AX
	DECQ CX
	JNZ loop8
	MOVUPS 0(AX), X8
	AESENCLAST X8, X0
	AESENCLAST X8, X1
	AESENCLAST X8, X2
	AESENCLAST X8, X3
	AESENCLAST X8, X4
	AESENCLAST X8, X5
	AESENCLAST X8, X6
	AESENCLAST X8, X7
	MOVQ X0, DX
	BSWAPQ DX
	MOVQ DX, 0(BX)
	MOVQ X1, DX
	BSWAPQ DX
	MOVQ DX, 8(BX)
	MOVQ X2, DX
	BSWAPQ DX
	MOVQ DX, 16(BX)
	MOVQ X3, DX
	BSWAPQ DX
	MOVQ DX, 24(BX)
	MOVQ X4, DX
	BSWAPQ DX
	MOVQ DX, 32(BX)
	MOVQ X5, DX
	BSWAPQ DX
	MOVQ DX, 40(BX)
	MOVQ X6, DX
	BSWAPQ DX
	MOVQ DX, 48(BX)
	MOVQ X7, DX
	BSWAPQ DX
	MOVQ DX, 56(BX)
	RET
