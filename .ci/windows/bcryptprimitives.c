/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks: every Rust-built extension (pydantic_core,
   jiter, rpds, tokenizers) imports its ProcessPrng. Answered from BCryptGenRandom, which Wine has. Built by
   .ci/windows/lane.sh with mingw-w64 and put beside python.exe; used for the Wine lane only. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG part = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, part, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += part;
        len -= part;
    }
    return TRUE;
}
