// The only file that includes ICU. One UTS #46 object and one spoof checker are created on
// first use and shared: ICU documents both as thread-safe for these const operations.
#include "cidna.h"

#include <pthread.h>
#include <unicode/uidna.h>
#include <unicode/uspoof.h>

_Static_assert(CIDNA_ERROR_DISALLOWED == UIDNA_ERROR_DISALLOWED, "IDNA bits mirror ICU");
_Static_assert(CIDNA_ERROR_BIDI == UIDNA_ERROR_BIDI, "IDNA bits mirror ICU");
_Static_assert(CIDNA_ERROR_CONTEXTJ == UIDNA_ERROR_CONTEXTJ, "IDNA bits mirror ICU");
_Static_assert(CIDNA_ERROR_CONTEXTO_DIGITS == UIDNA_ERROR_CONTEXTO_DIGITS, "IDNA bits mirror ICU");

static pthread_once_t once = PTHREAD_ONCE_INIT;
static UIDNA *idna;
static USpoofChecker *spoof;

static void setup(void) {
    UErrorCode status = U_ZERO_ERROR;
    idna = uidna_openUTS46(UIDNA_USE_STD3_RULES | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ |
                               UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE,
                           &status);
    if (U_FAILURE(status)) idna = NULL;

    status = U_ZERO_ERROR;
    USpoofChecker *checker = uspoof_open(&status);
    if (U_SUCCESS(status)) {
        uspoof_setChecks(checker, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS,
                         &status);
        uspoof_setRestrictionLevel(checker, USPOOF_HIGHLY_RESTRICTIVE);
    }
    if (U_FAILURE(status)) {
        if (checker) uspoof_close(checker);
        checker = NULL;
    }
    spoof = checker;
}

int32_t cidna_name_to_ascii(const char *input, int32_t length, char *out, int32_t capacity,
                            uint32_t *errors) {
    pthread_once(&once, setup);
    *errors = 0;
    if (!idna) { *errors = CIDNA_ERROR_INTERNAL; return -1; }
    UErrorCode status = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    int32_t n = uidna_nameToASCII_UTF8(idna, input, length, out, capacity, &info, &status);
    if (U_FAILURE(status) || n >= capacity) { *errors = CIDNA_ERROR_INTERNAL; return -1; }
    if (info.errors != 0) { *errors = info.errors; return -1; }
    return n;
}

int32_t cidna_name_to_unicode(const char *input, int32_t length, char *out, int32_t capacity,
                              uint32_t *errors) {
    pthread_once(&once, setup);
    *errors = 0;
    if (!idna) { *errors = CIDNA_ERROR_INTERNAL; return -1; }
    UErrorCode status = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    int32_t n = uidna_nameToUnicodeUTF8(idna, input, length, out, capacity, &info, &status);
    if (U_FAILURE(status) || n >= capacity) { *errors = CIDNA_ERROR_INTERNAL; return -1; }
    if (info.errors != 0) { *errors = info.errors; return -1; }
    return n;
}

int32_t cidna_spoof_check(const char *label, int32_t length) {
    pthread_once(&once, setup);
    if (!spoof) return -1;
    UErrorCode status = U_ZERO_ERROR;
    int32_t result = uspoof_checkUTF8(spoof, label, length, NULL, &status);
    if (U_FAILURE(status)) return -1;
    return result;
}
