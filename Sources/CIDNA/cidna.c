// The only file that includes ICU. One UTS #46 object and one spoof checker are created on
// first use and shared: ICU documents both as thread-safe for these const operations.
#include "cidna.h"

#include <pthread.h>
#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

_Static_assert(CIDNA_ERROR_DISALLOWED == UIDNA_ERROR_DISALLOWED, "IDNA bits mirror ICU");
_Static_assert(CIDNA_ERROR_BIDI == UIDNA_ERROR_BIDI, "IDNA bits mirror ICU");
_Static_assert(CIDNA_ERROR_CONTEXTJ == UIDNA_ERROR_CONTEXTJ, "IDNA bits mirror ICU");
_Static_assert(CIDNA_ERROR_CONTEXTO_DIGITS == UIDNA_ERROR_CONTEXTO_DIGITS, "IDNA bits mirror ICU");

static pthread_once_t once = PTHREAD_ONCE_INIT;
static UIDNA *idna;
static USpoofChecker *spoof;

static void setup(void) {
    UErrorCode status = U_ZERO_ERROR;
    idna = uidna_openUTS46(UIDNA_USE_STD3_RULES | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | UIDNA_CHECK_CONTEXTO |
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

// RFC 5892 section 3, the IDNA2008 derived property, evaluated in the RFC's order with this
// ICU's Unicode data (RFC 8753: the property is recomputed for each Unicode version). Returns
// whether `c` may appear in a registered label (PVALID, or CONTEXTJ/CONTEXTO, which the UTS #46
// conversion checks in context).
static int idna2008_allowed(UChar32 c) {
    switch (c) {
    // Exceptions (F): PVALID.
    case 0x00DF: case 0x03C2: case 0x06FD: case 0x06FE: case 0x0F0B: case 0x3007:
        return 1;
    // Exceptions (F): CONTEXTO.
    case 0x00B7: case 0x0375: case 0x05F3: case 0x05F4: case 0x30FB:
        return 1;
    // Exceptions (F): DISALLOWED.
    case 0x0640: case 0x07FA: case 0x302E: case 0x302F: case 0x3031: case 0x3032: case 0x3033:
    case 0x3034: case 0x3035: case 0x303B:
        return 0;
    default:
        break;
    }
    if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9)) return 1;  // CONTEXTO digits
    int8_t type = u_charType(c);
    if (type == U_UNASSIGNED) return 0;                                          // Unassigned (J)
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') return 1;  // LDH (K)
    if (c == 0x200C || c == 0x200D) return 1;                                    // JoinControl (H)
    if (u_hasBinaryProperty(c, UCHAR_CHANGES_WHEN_NFKC_CASEFOLDED)) return 0;    // Unstable (B)
    if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||             // IgnorableProperties (C)
        u_hasBinaryProperty(c, UCHAR_WHITE_SPACE) ||
        u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT)) return 0;
    UBlockCode block = ublock_getCode(c);                                         // IgnorableBlocks (D)
    if (block == UBLOCK_COMBINING_MARKS_FOR_SYMBOLS || block == UBLOCK_MUSICAL_SYMBOLS ||
        block == UBLOCK_ANCIENT_GREEK_MUSICAL_NOTATION) return 0;
    int32_t jamo = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);         // OldHangulJamo (I)
    if (jamo == U_HST_LEADING_JAMO || jamo == U_HST_VOWEL_JAMO || jamo == U_HST_TRAILING_JAMO) return 0;
    switch (type) {                                                              // LetterDigits (A)
    case U_LOWERCASE_LETTER: case U_UPPERCASE_LETTER: case U_OTHER_LETTER: case U_DECIMAL_DIGIT_NUMBER:
    case U_MODIFIER_LETTER: case U_NON_SPACING_MARK: case U_COMBINING_SPACING_MARK:
        return 1;
    default:
        return 0;                                                                // Otherwise: DISALLOWED
    }
}

int32_t cidna_idna2008_disallowed(const char *label, int32_t length) {
    const uint8_t *s = (const uint8_t *)label;
    int32_t i = 0;
    while (i < length) {
        UChar32 c;
        U8_NEXT(s, i, length, c);
        if (c < 0) return -1;
        if (!idna2008_allowed(c)) return c;
    }
    return 0;
}

int32_t cidna_latin_lookalike(const char *label, int32_t length, char *out, int32_t capacity) {
    pthread_once(&once, setup);
    if (!spoof) return -1;
    const uint8_t *s = (const uint8_t *)label;
    UScriptCode only = USCRIPT_INVALID_CODE;
    int32_t i = 0;
    while (i < length) {
        UChar32 c;
        U8_NEXT(s, i, length, c);
        if (c < 0) return -1;
        UErrorCode status = U_ZERO_ERROR;
        UScriptCode script = uscript_getScript(c, &status);
        if (U_FAILURE(status)) return -1;
        if (script == USCRIPT_COMMON || script == USCRIPT_INHERITED) continue;
        if (only == USCRIPT_INVALID_CODE) only = script;
        else if (only != script) return 0;  // several scripts: the mixed-script check's job
    }
    if (only == USCRIPT_INVALID_CODE || only == USCRIPT_LATIN) return 0;
    UErrorCode status = U_ZERO_ERROR;
    int32_t n = uspoof_getSkeletonUTF8(spoof, 0, label, length, out, capacity, &status);
    if (U_FAILURE(status) || n >= capacity) return -1;
    int letters = 0;
    for (int32_t j = 0; j < n; j++) {
        char c = out[j];
        if (c >= 'a' && c <= 'z') { letters++; continue; }
        if ((c >= '0' && c <= '9') || c == '-') continue;
        return 0;  // the skeleton is not a plain ASCII name: no Latin look-alike
    }
    return letters > 0 ? n : 0;
}
