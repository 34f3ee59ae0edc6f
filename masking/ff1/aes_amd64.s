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

// func encryptBlocks4(nr int, rk *byte, x *[4][16]byte)
// Four independent blocks under one key schedule, interleaved so that
// the AES unit's pipeline overlaps them.
TEXT ·encryptBlocks4(SB), NOSPLIT, $0-24
	MOVQ nr+0(FP), CX
	MOVQ rk+8(FP), AX
	MOVQ x+16(FP), BX
	MOVUPS 0(BX), X0
	MOVUPS 16(BX), X1
	MOVUPS 32(BX), X2
	MOVUPS 48(BX), X3
	MOVUPS 0(AX), X8
	PXOR X8, X0
	PXOR X8, X1
	PXOR X8, X2
	PXOR X8, X3
	ADDQ $16, AX
	DECQ CX

loop4:
	MOVUPS 0(AX), X8
	AESENC X8, X0
	AESENC X8, X1
	AESENC X8, X2
	AESENC X8, X3
	ADDQ $16, AX
	DECQ CX
	JNZ loop4
	MOVUPS 0(AX), X8
	AESENCLAST X8, X0
	AESENCLAST X8, X1
	AESENCLAST X8, X2
	AESENCLAST X8, X3
	MOVUPS X0, 0(BX)
	MOVUPS X1, 16(BX)
	MOVUPS X2, 32(BX)
	MOVUPS X3, 48(BX)
	RET
