// A plain-C face over ICU for Swift. ICU's own headers clash with the copy of ICU that
// Foundation bundles and hide functions behind versioned macros, so Swift sees only this
// header; cidna.c is the one file that includes ICU (libicu-dev).
#ifndef CIDNA_H
#define CIDNA_H

#include <stdint.h>

/// Error bits returned by the conversions; each equals ICU's UIDNA_ERROR_* value of the same name.
enum {
    CIDNA_ERROR_EMPTY_LABEL = 0x1,
    CIDNA_ERROR_LABEL_TOO_LONG = 0x2,
    CIDNA_ERROR_DOMAIN_NAME_TOO_LONG = 0x4,
    CIDNA_ERROR_LEADING_HYPHEN = 0x8,
    CIDNA_ERROR_TRAILING_HYPHEN = 0x10,
    CIDNA_ERROR_HYPHEN_3_4 = 0x20,
    CIDNA_ERROR_LEADING_COMBINING_MARK = 0x40,
    CIDNA_ERROR_DISALLOWED = 0x80,
    CIDNA_ERROR_PUNYCODE = 0x100,
    CIDNA_ERROR_LABEL_HAS_DOT = 0x200,
    CIDNA_ERROR_INVALID_ACE_LABEL = 0x400,
    CIDNA_ERROR_BIDI = 0x800,
    CIDNA_ERROR_CONTEXTJ = 0x1000,
    CIDNA_ERROR_CONTEXTO_PUNCTUATION = 0x2000,
    CIDNA_ERROR_CONTEXTO_DIGITS = 0x4000,
    /// Not an ICU bit: the conversion itself failed (buffer, ICU not usable).
    CIDNA_ERROR_INTERNAL = 0x40000000,
};

/// UTS #46 non-transitional ToASCII with STD3 rules, Bidi and ContextJ checks.
/// Writes the ASCII name (not NUL-terminated) to `out` and returns its length,
/// or returns -1 and sets `*errors` when the name is refused.
int32_t cidna_name_to_ascii(const char *input, int32_t length, char *out, int32_t capacity,
                            uint32_t *errors);

/// UTS #46 ToUnicode of an ASCII name (for display and for the spoof check).
/// Returns the UTF-8 length written to `out`, or -1 with `*errors` set.
int32_t cidna_name_to_unicode(const char *input, int32_t length, char *out, int32_t capacity,
                              uint32_t *errors);

/// UTS #39 check of one label in UTF-8 at the "highly restrictive" level (one script, or the
/// CJK combinations that level allows), plus invisible characters and mixed digit sets.
/// Returns 0 when the label passes, a nonzero value (ICU's USPOOF_* bits) when it does not,
/// and -1 when the checker could not run.
int32_t cidna_spoof_check(const char *label, int32_t length);

/// RFC 5892 (IDNA2008) check of one U-label in UTF-8: returns the first code point whose derived
/// property is DISALLOWED or UNASSIGNED (symbols and emoji such as U+2665, U+1F600, which UTS #46
/// alone lets through), 0 when every code point may be registered, -1 for invalid UTF-8.
int32_t cidna_idna2008_disallowed(const char *label, int32_t length);

/// UTS #39 whole-script confusable check against Latin: when the label is written in one
/// script other than Latin (ignoring Common and Inherited) and its confusable skeleton is a
/// plain ASCII name (letters, digits, hyphens, at least one letter), writes that skeleton to
/// `out` and returns its length; returns 0 otherwise and -1 when the check could not run.
int32_t cidna_latin_lookalike(const char *label, int32_t length, char *out, int32_t capacity);

#endif
