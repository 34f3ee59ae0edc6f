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
