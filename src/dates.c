/*
 * dates.c - reading the many ways letters and records write dates ("August 11, 2000",
 * "5-4-08", "3/26/2005", "2015-08-19") into ISO 8601, and small date arithmetic used for
 * deadlines.
 */
#include "imr.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const MONTHS[12] = {"January", "February", "March",     "April",
                                       "May",     "June",     "July",      "August",
                                       "September", "October", "November", "December"};

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

static int valid_ymd(int y, int m, int d)
{
    return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static void write_iso(char iso[11], int y, int m, int d)
{
    /* callers pass a valid date (year 1900..2100): digits written directly, as snprintf
     * "%04d-%02d-%02d" would, at a fraction of the cost (dates are on the engine's hot path) */
    iso[0] = (char)('0' + y / 1000);
    iso[1] = (char)('0' + y / 100 % 10);
    iso[2] = (char)('0' + y / 10 % 10);
    iso[3] = (char)('0' + y % 10);
    iso[4] = '-';
    iso[5] = (char)('0' + m / 10);
    iso[6] = (char)('0' + m % 10);
    iso[7] = '-';
    iso[8] = (char)('0' + d / 10);
    iso[9] = (char)('0' + d % 10);
    iso[10] = '\0';
}

/* read 1..maxd digits; returns count read */
static size_t read_num(const char *s, size_t len, size_t maxd, int *out)
{
    size_t i = 0;
    int v = 0;
    while (i < len && i < maxd && isdigit((unsigned char)s[i])) {
        v = v * 10 + (s[i] - '0');
        i++;
    }
    *out = v;
    return i;
}

/* The month whose name starts with the three letters at s (any case), or -1: the first
 * three letters of the twelve names all differ, so they pick the one name to compare. */
static int month_by_first_three(const char *s, size_t len)
{
    if (len < 3 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]) ||
        !isalpha((unsigned char)s[2]))
        return -1;
    for (int m = 0; m < 12; m++)
        if ((s[0] | 0x20) == (MONTHS[m][0] | 0x20) && (s[1] | 0x20) == MONTHS[m][1] &&
            (s[2] | 0x20) == MONTHS[m][2])
            return m;
    return -1;
}

static int month_from_word(const char *s, size_t len, size_t *used)
{
    int m = month_by_first_three(s, len);
    if (m < 0)
        return 0;
    size_t full = strlen(MONTHS[m]);
    if (len >= full && strncasecmp(s, MONTHS[m], full) == 0 &&
        (len == full || !isalpha((unsigned char)s[full]))) {
        *used = full + (len > full && s[full] == '.' ? 1 : 0); /* "May. 3" as "Jun. 3" */
        return m + 1;
    }
    /* three-letter abbreviations, optionally with a dot ("Sept" too) */
    size_t ab = (m == 8 && len >= 4 && strncasecmp(s, "Sept", 4) == 0) ? 4 : 3;
    if (len == ab || !isalpha((unsigned char)s[ab])) {
        *used = ab + (len > ab && s[ab] == '.' ? 1 : 0);
        return m + 1;
    }
    return 0;
}

static int expand_year(int y, size_t digits)
{
    if (digits == 2)
        return y > 30 ? 1900 + y : 2000 + y;
    return y;
}

size_t imr_date_parse(const char *s, size_t len, char iso[11])
{
    if (!s || len == 0)
        return 0;
    /* Month-name form: "August 11, 2000" / "Aug. 11 2000" */
    if (isalpha((unsigned char)s[0])) {
        size_t used = 0;
        int m = month_from_word(s, len, &used);
        if (!m)
            return 0;
        size_t i = used;
        while (i < len && s[i] == ' ')
            i++;
        int d;
        size_t nd = read_num(s + i, len - i, 2, &d);
        if (!nd)
            return 0;
        i += nd;
        /* ordinal suffix */
        if (i + 1 < len && (strncasecmp(s + i, "st", 2) == 0 || strncasecmp(s + i, "nd", 2) == 0 ||
                            strncasecmp(s + i, "rd", 2) == 0 || strncasecmp(s + i, "th", 2) == 0))
            i += 2;
        if (i < len && s[i] == ',')
            i++;
        while (i < len && s[i] == ' ')
            i++;
        int y;
        size_t ny = read_num(s + i, len - i, 4, &y);
        if (ny != 4)
            return 0;
        i += ny;
        if (i < len && isdigit((unsigned char)s[i]))
            return 0;
        if (!valid_ymd(y, m, d))
            return 0;
        write_iso(iso, y, m, d);
        return i;
    }
    if (!isdigit((unsigned char)s[0]))
        return 0;
    int a, b, c;
    size_t i = 0, n;
    n = read_num(s, len, 4, &a);
    i += n;
    if (n == 4) { /* ISO: YYYY-MM-DD */
        if (i >= len || s[i] != '-')
            return 0;
        i++;
        size_t nb = read_num(s + i, len - i, 2, &b);
        if (nb != 2)
            return 0;
        i += nb;
        if (i >= len || s[i] != '-')
            return 0;
        i++;
        size_t nc = read_num(s + i, len - i, 2, &c);
        if (nc != 2)
            return 0;
        i += nc;
        if (i < len && isdigit((unsigned char)s[i]))
            return 0;
        if (!valid_ymd(a, b, c))
            return 0;
        write_iso(iso, a, b, c);
        return i;
    }
    if (n > 2)
        return 0;
    char sep = i < len ? s[i] : 0;
    if (sep != '-' && sep != '/')
        return 0;
    i++;
    size_t nb = read_num(s + i, len - i, 2, &b);
    if (!nb)
        return 0;
    i += nb;
    if (i >= len || s[i] != sep)
        return 0;
    i++;
    size_t nc = read_num(s + i, len - i, 4, &c);
    if (nc != 2 && nc != 4)
        return 0;
    i += nc;
    if (i < len && isdigit((unsigned char)s[i]))
        return 0;
    int y = expand_year(c, nc);
    if (!valid_ymd(y, a, b))
        return 0;
    write_iso(iso, y, a, b);
    return i;
}

int imr_date_valid_iso(const char *iso)
{
    char tmp[11];
    if (!iso || strlen(iso) != 10)
        return 0;
    return imr_date_parse(iso, 10, tmp) == 10 && strcmp(tmp, iso) == 0;
}

/* "YYYY-MM-DD" at the start of iso, digits where digits go: what sscanf("%4d-%2d-%2d")
 * reads then, without its cost (other text takes the sscanf path). */
static int canonical_ymd(const char *iso, int *y, int *m, int *d)
{
    for (int i = 0; i < 10; i++) {
        char c = iso[i];
        if (i == 4 || i == 7 ? c != '-' : (c < '0' || c > '9'))
            return 0;
    }
    *y = (iso[0] - '0') * 1000 + (iso[1] - '0') * 100 + (iso[2] - '0') * 10 + (iso[3] - '0');
    *m = (iso[5] - '0') * 10 + (iso[6] - '0');
    *d = (iso[8] - '0') * 10 + (iso[9] - '0');
    return 1;
}

long imr_date_days(const char *iso)
{
    int y = 0, m = 0, d = 0;
    if (!canonical_ymd(iso, &y, &m, &d) && sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return 0;
    /* days from civil (Howard Hinnant's algorithm, public domain description) */
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Write n (0..9999) in decimal at out; returns the digits written. */
static size_t put_int(char *out, int n)
{
    char tmp[8];
    size_t k = 0;
    do
        tmp[k++] = (char)('0' + n % 10);
    while ((n /= 10) > 0);
    for (size_t i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    return k;
}

void imr_date_long(const char *iso, char out[32])
{
    int y = 0, m = 0, d = 0;
    if (iso && canonical_ymd(iso, &y, &m, &d) && m >= 1 && m <= 12) {
        /* what the snprintf below writes, for the common case: "August 9, 2015" */
        size_t n = strlen(MONTHS[m - 1]);
        memcpy(out, MONTHS[m - 1], n);
        out[n++] = ' ';
        n += put_int(out + n, d);
        out[n++] = ',';
        out[n++] = ' ';
        n += put_int(out + n, y);
        out[n] = '\0';
        return;
    }
    if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) {
        snprintf(out, 32, "%s", iso ? iso : "");
        return;
    }
    snprintf(out, 32, "%s %d, %d", MONTHS[m - 1], d, y);
}
