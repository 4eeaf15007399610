/*
 * deadlines.c - the review clocks of IMR (LC 4610.6(d)): a standard review is due 30 days,
 * an expedited review 3 days, after the later of the receipt of the application and the
 * receipt of the medical records (the numbers come from rules/process.tsv). Calendar days
 * throughout. Also the small date arithmetic the service needs: day numbers back to ISO
 * dates, today's date from a timestamp, days left and which statuses run a clock.
 */
#include "service_internal.h"

#include <string.h>

static int leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to January 1st of year y (y >= 1). */
static long year_start(long y)
{
    long before = y - 1; /* leap years in 1..y-1, minus those in 1..1969 */
    return 365 * (y - 1970) + (before / 4 - before / 100 + before / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
}

void svc_date_from_days(long days, char iso[11])
{
    long y = 1970 + (long)((double)days / 365.2425);
    if (y < 1)
        y = 1;
    while (y > 1 && year_start(y) > days)
        y--;
    while (year_start(y + 1) <= days)
        y++;
    long rest = days - year_start(y);
    static const int LEN[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int m = 0;
    while (m < 11) {
        long len = LEN[m] + (m == 1 && leap(y));
        if (rest < len)
            break;
        rest -= len;
        m++;
    }
    if (y > 9999 || rest < 0) { /* outside what ISO dates here can say */
        strcpy(iso, y > 9999 ? "9999-12-31" : "0001-01-01");
        return;
    }
    snprintf(iso, 11, "%04ld-%02d-%02ld", y, m + 1, rest + 1);
}

int svc_today(const char *now, char iso[11])
{
    if (!now || strlen(now) < 10)
        return 0;
    memcpy(iso, now, 10);
    iso[10] = '\0';
    return imr_date_valid_iso(iso);
}

int svc_status_open(const char *status)
{
    static const char *const OPEN[] = {"received", "eligible", "assigned", "in_review", NULL};
    for (int i = 0; status && OPEN[i]; i++)
        if (!strcmp(status, OPEN[i]))
            return 1;
    return 0;
}

long svc_days_left(const char *due, const char *today)
{
    return imr_date_days(due) - imr_date_days(today);
}

int imr_due_date(const char *priority, const char *received, const char *records_received,
                 char due[11])
{
    const svc_process *p = svc_process_rules(NULL);
    if (!p)
        return IMR_EX_SOFTWARE;
    int days;
    if (!priority || !strcmp(priority, "standard"))
        days = p->standard_review_days;
    else if (!strcmp(priority, "expedited"))
        days = p->expedited_review_days;
    else
        return IMR_EX_DATAERR;
    char start[11], records[11];
    if (!svc_today(received, start))
        return IMR_EX_DATAERR;
    if (records_received) {
        if (!svc_today(records_received, records))
            return IMR_EX_DATAERR;
        if (imr_date_days(records) > imr_date_days(start))
            memcpy(start, records, sizeof start);
    }
    svc_date_from_days(imr_date_days(start) + days, due);
    return IMR_OK;
}
