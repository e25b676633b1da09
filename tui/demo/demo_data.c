/*
 * demo_data.c — `zetl demo`'s sample tables and their rows (see demo_int.h).
 *
 * TICKIT is the ticket-sales sample schema Amazon ships with Redshift: users
 * buy and sell tickets to events (in a category, at a venue, on a date)
 * through listings, and every sale is a row of `sales`. The rows here are
 * made up by a seeded generator in that shape, with mixed types (DECIMAL
 * money, DATETIME, DATE, BOOLEAN flags with NULLs, CHAR/VARCHAR with
 * non-ASCII text and quotes). The shop is a small order system in
 * PostgreSQL with numeric, timestamptz, jsonb and text[] columns.
 * Pure code: no I/O.
 */
#include "tui/demo/demo_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- generator ------------------------------------------------------------- */

void demo_rng_seed(struct demo_rng *r, uint64_t seed) { r->s = seed; }

uint64_t demo_rng_next(struct demo_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t demo_rng_range(struct demo_rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo) return lo;
    return lo + (int64_t)(demo_rng_next(r) % (uint64_t)(hi - lo + 1));
}

int demo_rng_percent(struct demo_rng *r, int pct) { return (int)(demo_rng_next(r) % 100) < pct; }

#define PICK(g, arr) ((arr)[demo_rng_next(&(g)->rng) % (sizeof (arr) / sizeof (arr)[0])])

/* ---- rows ------------------------------------------------------------------ */

void demo_row_reset(struct demo_row *r)
{
    r->n = 0;
    r->used = 0;
}

void demo_row_add(struct demo_row *r, const char *fmt, ...)
{
    if (r->n >= DEMO_ROW_MAXCOLS) return;
    char *p = r->buf + r->used;
    size_t room = sizeof r->buf - r->used;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(p, room, fmt, ap);
    va_end(ap);
    if (k < 0) k = 0;
    if ((size_t)k >= room) k = room ? (int)room - 1 : 0;   /* generated text is short; never hit */
    r->v[r->n] = p;
    r->len[r->n] = (unsigned long)k;
    r->n++;
    r->used += (size_t)k + 1;
}

void demo_row_null(struct demo_row *r)
{
    if (r->n >= DEMO_ROW_MAXCOLS) return;
    r->v[r->n] = NULL;
    r->len[r->n] = 0;
    r->n++;
}

void demo_row_money(struct demo_row *r, int64_t cents)
{
    demo_row_add(r, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

/* A flag that is sometimes unknown, as in TICKIT's like* columns. */
static void row_flag(struct demo_gen *g, struct demo_row *r)
{
    if (demo_rng_percent(&g->rng, 15)) demo_row_null(r);
    else demo_row_add(r, "%d", demo_rng_percent(&g->rng, 40));
}

/* ---- word lists ------------------------------------------------------------ */

static const char *const first_names[] = {
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofía", "José", "Zoë", "Chloé",
    "Björn", "Søren", "Renée", "François", "Łukasz", "Ngọc", "Aiyana", "Kenji", "Amara",
    "Dmitri", "Siobhán", "Ines", "Malik", "Priya", "Rafael", "Hannah", "Yusuf", "Grace",
    "Matthäus", "Ana", "Lucas", "Mia", "Ethan", "Isabella", "Wei", "Fatima", "Oscar",
};
static const char *const last_names[] = {
    "Smith", "Johnson", "García", "Müller", "O'Brien", "Nakamura", "Ødegaard", "Dvořák",
    "Nguyen", "Kowalski", "Rossi", "Haddad", "Brown", "Martínez", "Kim", "Patel",
    "D'Angelo", "Lefèvre", "Jansen", "Novak", "Williams", "Schröder", "Okafor", "Silva",
    "Andersson", "Lee", "Walker", "Hernández", "Murphy", "Cohen",
};
static const struct { const char *city, *state; } cities[] = {
    {"New York", "NY"}, {"Los Angeles", "CA"}, {"Chicago", "IL"}, {"Houston", "TX"},
    {"Phoenix", "AZ"}, {"Philadelphia", "PA"}, {"San Antonio", "TX"}, {"San Diego", "CA"},
    {"Dallas", "TX"}, {"San José", "CA"}, {"Austin", "TX"}, {"Seattle", "WA"},
    {"Denver", "CO"}, {"Boston", "MA"}, {"Nashville", "TN"}, {"Las Vegas", "NV"},
    {"Portland", "OR"}, {"Española", "NM"}, {"Cañon City", "CO"}, {"Coeur d'Alene", "ID"},
    {"Miami", "FL"}, {"Atlanta", "GA"}, {"Minneapolis", "MN"}, {"New Orleans", "LA"},
};
static const char *const domains[] = {"example.com", "example.net", "example.org", "mail.example"};
static const char *const venue_first[] = {
    "Lincoln", "Riverside", "Crescent", "Liberty", "Pioneer", "Grand", "Harbor", "Summit",
    "Majestic", "Orpheum", "Paramount", "Civic", "Lakeside", "Golden Gate", "Bayou",
};
static const char *const venue_kind[] = {
    "Arena", "Stadium", "Theatre", "Center", "Field", "Hall", "Amphitheatre", "Ballpark",
    "Opera House", "Coliseum",
};
static const char *const performers[] = {
    "Mamma Mia!", "The Phantom of the Opera", "Wicked", "Beyoncé", "Sigur Rós", "Mötley Crüe",
    "Björk", "Hamlet", "La Bohème", "Carmen", "Die Zauberflöte", "Les Misérables",
    "The Lion King", "Chicago", "Miles Davis Tribute", "Buena Vista Social Club", "Coldplay",
    "Metallica", "Yo-Yo Ma", "Berliner Philharmoniker", "Cirque du Soleil", "A Chorus Line",
    "Death of a Salesman", "Rigoletto", "Norah Jones", "Daft Punk", "Café Tacvba",
    "Giants vs. Dodgers", "Rangers vs. Bruins", "Packers vs. Bears", "Lakers vs. Celtics",
    "Sounders vs. Timbers",
};
static const char *const channels[] = {"web", "app", "box office", "reseller"};
static const char *const products[] = {
    "Espresso cup", "Linen napkin", "Cast-iron pan", "Chef's knife", "Olive oil 500 ml",
    "Crème brûlée torch", "Bamboo board", "Tea kettle", "Wine glass", "Café au lait bowl",
    "Pepper mill", "Stand mixer", "Water filter", "Herb planter", "Salad spinner",
};
static const char *const colors[] = {"red", "blue", "black", "white", "green", "oak"};
static const char *const countries[] = {"US", "CA", "MX", "GB", "DE", "FR", "ES", "JP", "BR", "NO"};
static const char *const order_status[] = {"placed", "paid", "packed", "shipped", "delivered", "returned"};

const char *demo_pick_city(struct demo_gen *g) { return PICK(g, cities).city; }
const char *demo_pick_order_status(struct demo_gen *g) { return PICK(g, order_status); }

/* ---- dates: the TICKIT calendar is the year 2008, dateid 1..366 ------------- */

static void day_of(int64_t dateid, struct tm *tm)
{
    time_t t = (time_t)1199145600 + (time_t)(dateid - 1) * 86400;   /* 2008-01-01 UTC */
    gmtime_r(&t, tm);
}

static void row_datetime(struct demo_gen *g, struct demo_row *r, int64_t dateid, int hour_lo, int hour_hi)
{
    struct tm tm;
    day_of(dateid, &tm);
    demo_row_add(r, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 (int)demo_rng_range(&g->rng, hour_lo, hour_hi), (int)demo_rng_range(&g->rng, 0, 59),
                 (int)demo_rng_range(&g->rng, 0, 59));
}

/* ---- TICKIT ---------------------------------------------------------------- */

static void gen_user(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    char uname[9];
    for (int i = 0; i < 8; i++) uname[i] = (char)('A' + demo_rng_range(&g->rng, 0, 25));
    uname[8] = '\0';
    const char *first = PICK(g, first_names), *last = PICK(g, last_names);
    int c = (int)(demo_rng_next(&g->rng) % (sizeof cities / sizeof cities[0]));
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%s", uname);
    demo_row_add(r, "%s", first);
    demo_row_add(r, "%s", last);
    demo_row_add(r, "%s", cities[c].city);
    demo_row_add(r, "%s", cities[c].state);
    if (demo_rng_percent(&g->rng, 5)) demo_row_null(r);
    else demo_row_add(r, "%c%c%lld@%s", uname[0] + 32, uname[1] + 32, (long long)id, PICK(g, domains));
    demo_row_add(r, "(%03d) %03d-%04d", (int)demo_rng_range(&g->rng, 200, 989),
                 (int)demo_rng_range(&g->rng, 200, 999), (int)demo_rng_range(&g->rng, 0, 9999));
    for (int i = 0; i < 10; i++) row_flag(g, r);
}

static void gen_venue(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    int c = (int)(demo_rng_next(&g->rng) % (sizeof cities / sizeof cities[0]));
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%s %s %lld", PICK(g, venue_first), PICK(g, venue_kind), (long long)id);
    demo_row_add(r, "%s", cities[c].city);
    demo_row_add(r, "%s", cities[c].state);
    if (demo_rng_percent(&g->rng, 20)) demo_row_null(r);     /* TICKIT leaves many unknown */
    else demo_row_add(r, "%d", (int)demo_rng_range(&g->rng, 2, 90) * 1000);
}

static void gen_category(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    static const char *const cat[][3] = {
        {"Sports", "MLB", "Major League Baseball"},
        {"Sports", "NHL", "National Hockey League"},
        {"Sports", "NFL", "National Football League"},
        {"Sports", "NBA", "National Basketball Association"},
        {"Sports", "MLS", "Major League Soccer"},
        {"Shows", "Musicals", "Musical theatre"},
        {"Shows", "Plays", "All non-musical theatre"},
        {"Shows", "Opera", "All opera and light opera"},
        {"Concerts", "Pop", "All rock and pop music concerts"},
        {"Concerts", "Jazz", "All jazz singers and bands"},
        {"Concerts", "Classical", "All symphony, concerto, and choir concerts"},
    };
    (void)g;
    const char *const *c = cat[(id - 1) % 11];
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%s", c[0]);
    demo_row_add(r, "%s", c[1]);
    demo_row_add(r, "%s", c[2]);
}

static void gen_date(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    static const char *const wday[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
    static const char *const mon[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    struct tm tm;
    (void)g;
    day_of(id, &tm);
    int md = (tm.tm_mon + 1) * 100 + tm.tm_mday;
    int holiday = md == 101 || md == 121 || md == 526 || md == 704 || md == 901 ||
                  md == 1127 || md == 1225;
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    demo_row_add(r, "%s", wday[tm.tm_wday]);
    demo_row_add(r, "%d", tm.tm_yday / 7 + 1);
    demo_row_add(r, "%s", mon[tm.tm_mon]);
    demo_row_add(r, "%d", tm.tm_mon / 3 + 1);
    demo_row_add(r, "%d", tm.tm_year + 1900);
    demo_row_add(r, "%d", holiday);
}

static void gen_event(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    const struct demo_sizes *z = g->z;
    int64_t dateid = demo_rng_range(&g->rng, 1, z->dates);
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->venues));
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->categories));
    demo_row_add(r, "%lld", (long long)dateid);
    demo_row_add(r, "%s", PICK(g, performers));
    row_datetime(g, r, dateid, 14, 21);
}

static void gen_listing(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    const struct demo_sizes *z = g->z;
    int64_t dateid = demo_rng_range(&g->rng, 1, z->dates);
    int64_t n = demo_rng_range(&g->rng, 1, 30), price = demo_rng_range(&g->rng, 2000, 150000);
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->users));
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->events));
    demo_row_add(r, "%lld", (long long)dateid);
    demo_row_add(r, "%lld", (long long)n);
    demo_row_money(r, price);
    demo_row_money(r, price * n);
    row_datetime(g, r, dateid, 0, 23);
}

void demo_gen_sale(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    const struct demo_sizes *z = g->z;
    int64_t dateid = demo_rng_range(&g->rng, 1, z->dates);
    int64_t qty = demo_rng_range(&g->rng, 1, 8), paid = qty * demo_rng_range(&g->rng, 1500, 90000);
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->listings));
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->users));
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->users));
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, z->events));
    demo_row_add(r, "%lld", (long long)dateid);
    demo_row_add(r, "%lld", (long long)qty);
    demo_row_money(r, paid);
    demo_row_money(r, (paid * 15 + 50) / 100);          /* 15 % commission, rounded */
    row_datetime(g, r, dateid, 0, 23);
    if (g->with_channel) demo_row_add(r, "%s", PICK(g, channels));
}

#define SZ(f) offsetof(struct demo_sizes, f)

const struct demo_table demo_tickit_tables[] = {
    {"tickit", "users",
     "CREATE TABLE `tickit`.`users` (`userid` INT NOT NULL PRIMARY KEY, `username` CHAR(8) NOT NULL,"
     " `firstname` VARCHAR(30), `lastname` VARCHAR(30), `city` VARCHAR(30), `state` CHAR(2),"
     " `email` VARCHAR(100), `phone` CHAR(14), `likesports` BOOLEAN, `liketheatre` BOOLEAN,"
     " `likeconcerts` BOOLEAN, `likejazz` BOOLEAN, `likeclassical` BOOLEAN, `likeopera` BOOLEAN,"
     " `likerock` BOOLEAN, `likevegas` BOOLEAN, `likebroadway` BOOLEAN, `likemusicals` BOOLEAN)"
     " CHARACTER SET utf8mb4",
     {"userid", "username", "firstname", "lastname", "city", "state", "email", "phone",
      "likesports", "liketheatre", "likeconcerts", "likejazz", "likeclassical", "likeopera",
      "likerock", "likevegas", "likebroadway", "likemusicals"}, 18, SZ(users), gen_user},
    {"tickit", "venue",
     "CREATE TABLE `tickit`.`venue` (`venueid` SMALLINT NOT NULL PRIMARY KEY,"
     " `venuename` VARCHAR(100), `venuecity` VARCHAR(30), `venuestate` CHAR(2), `venueseats` INT)"
     " CHARACTER SET utf8mb4",
     {"venueid", "venuename", "venuecity", "venuestate", "venueseats"}, 5, SZ(venues), gen_venue},
    {"tickit", "category",
     "CREATE TABLE `tickit`.`category` (`catid` SMALLINT NOT NULL PRIMARY KEY,"
     " `catgroup` VARCHAR(10), `catname` VARCHAR(10), `catdesc` VARCHAR(50)) CHARACTER SET utf8mb4",
     {"catid", "catgroup", "catname", "catdesc"}, 4, SZ(categories), gen_category},
    {"tickit", "date",
     "CREATE TABLE `tickit`.`date` (`dateid` SMALLINT NOT NULL PRIMARY KEY, `caldate` DATE NOT NULL,"
     " `day` CHAR(3) NOT NULL, `week` SMALLINT NOT NULL, `month` CHAR(5) NOT NULL,"
     " `qtr` CHAR(5) NOT NULL, `year` SMALLINT NOT NULL, `holiday` BOOLEAN DEFAULT FALSE)",
     {"dateid", "caldate", "day", "week", "month", "qtr", "year", "holiday"}, 8, SZ(dates), gen_date},
    {"tickit", "event",
     "CREATE TABLE `tickit`.`event` (`eventid` INT NOT NULL PRIMARY KEY, `venueid` SMALLINT NOT NULL,"
     " `catid` SMALLINT NOT NULL, `dateid` SMALLINT NOT NULL, `eventname` VARCHAR(200),"
     " `starttime` DATETIME) CHARACTER SET utf8mb4",
     {"eventid", "venueid", "catid", "dateid", "eventname", "starttime"}, 6, SZ(events), gen_event},
    {"tickit", "listing",
     "CREATE TABLE `tickit`.`listing` (`listid` INT NOT NULL PRIMARY KEY, `sellerid` INT NOT NULL,"
     " `eventid` INT NOT NULL, `dateid` SMALLINT NOT NULL, `numtickets` SMALLINT NOT NULL,"
     " `priceperticket` DECIMAL(8,2), `totalprice` DECIMAL(8,2), `listtime` DATETIME)",
     {"listid", "sellerid", "eventid", "dateid", "numtickets", "priceperticket", "totalprice",
      "listtime"}, 8, SZ(listings), gen_listing},
    {"tickit", "sales",
     "CREATE TABLE `tickit`.`sales` (`salesid` INT NOT NULL PRIMARY KEY, `listid` INT NOT NULL,"
     " `sellerid` INT NOT NULL, `buyerid` INT NOT NULL, `eventid` INT NOT NULL,"
     " `dateid` SMALLINT NOT NULL, `qtysold` SMALLINT NOT NULL, `pricepaid` DECIMAL(8,2),"
     " `commission` DECIMAL(8,2), `saletime` DATETIME)",
     {"salesid", "listid", "sellerid", "buyerid", "eventid", "dateid", "qtysold", "pricepaid",
      "commission", "saletime"}, 10, SZ(sales), demo_gen_sale},
};
const int demo_ntickit_tables = (int)(sizeof demo_tickit_tables / sizeof demo_tickit_tables[0]);

/* No default: existing rows read NULL, so the target adds the column in place
 * and streams the new values (README "Schema changes"). */
const char demo_sales_add_column[] = "ALTER TABLE `tickit`.`sales` ADD COLUMN `channel` VARCHAR(12) NULL";

const struct demo_table demo_sales_with_channel = {
    "tickit", "sales", NULL,
    {"salesid", "listid", "sellerid", "buyerid", "eventid", "dateid", "qtysold", "pricepaid",
     "commission", "saletime", "channel"}, 11, SZ(sales), demo_gen_sale,
};

/* ---- shop -------------------------------------------------------------------- */

static void gen_customer(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%s %s", PICK(g, first_names), PICK(g, last_names));
    demo_row_add(r, "customer%lld@%s", (long long)id, PICK(g, domains));
    demo_row_add(r, "%s", PICK(g, countries));
    demo_row_add(r, "%s", demo_rng_percent(&g->rng, 10) ? "true" : "false");
    demo_row_add(r, "2024-%02d-%02d %02d:%02d:00+00", (int)demo_rng_range(&g->rng, 1, 12),
                 (int)demo_rng_range(&g->rng, 1, 28), (int)demo_rng_range(&g->rng, 0, 23),
                 (int)demo_rng_range(&g->rng, 0, 59));
}

static void gen_product(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "SKU-%06lld", (long long)id);
    demo_row_add(r, "%s", PICK(g, products));
    demo_row_money(r, demo_rng_range(&g->rng, 199, 49999));
    demo_row_add(r, "%d", (int)demo_rng_range(&g->rng, 0, 500));
    if (demo_rng_percent(&g->rng, 10)) demo_row_null(r);
    else demo_row_add(r, "{\"color\": \"%s\", \"weight_g\": %d}", PICK(g, colors),
                      (int)demo_rng_range(&g->rng, 50, 5000));
    demo_row_add(r, "{%s,%s}", demo_rng_percent(&g->rng, 30) ? "sale" : "regular",
                 demo_rng_percent(&g->rng, 50) ? "kitchen" : "\"home & garden\"");
}

void demo_gen_order(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    demo_row_add(r, "%lld", (long long)id);
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, g->z->customers));
    demo_row_add(r, "%s", PICK(g, order_status));
    demo_row_add(r, "2025-%02d-%02d %02d:%02d:%02d.%03d+00", (int)demo_rng_range(&g->rng, 1, 12),
                 (int)demo_rng_range(&g->rng, 1, 28), (int)demo_rng_range(&g->rng, 0, 23),
                 (int)demo_rng_range(&g->rng, 0, 59), (int)demo_rng_range(&g->rng, 0, 59),
                 (int)demo_rng_range(&g->rng, 0, 999));
    demo_row_money(r, demo_rng_range(&g->rng, 500, 250000));
    if (demo_rng_percent(&g->rng, 80)) demo_row_null(r);
    else demo_row_add(r, "gift wrap, \"fragile\"; leave at door");
}

void demo_gen_order_item(struct demo_gen *g, int64_t order_id, int line, struct demo_row *r)
{
    demo_row_add(r, "%lld", (long long)order_id);
    demo_row_add(r, "%d", line);
    demo_row_add(r, "%lld", (long long)demo_rng_range(&g->rng, 1, g->z->products));
    demo_row_add(r, "%d", (int)demo_rng_range(&g->rng, 1, 5));
    demo_row_money(r, demo_rng_range(&g->rng, 199, 49999));
}

/* The loaded sample has two lines per order: item id i is line i%2+1 of order i/2+1. */
static void gen_item(struct demo_gen *g, int64_t id, struct demo_row *r)
{
    demo_gen_order_item(g, (id - 1) / 2 + 1, (int)((id - 1) % 2) + 1, r);
}

#define ITEMS_PER_ORDER 2
const struct demo_table demo_shop_tables[] = {
    {"shop", "customers",
     "CREATE TABLE \"shop\".\"customers\" (\"customer_id\" integer PRIMARY KEY, \"name\" text NOT NULL,"
     " \"email\" text, \"country\" char(2), \"vip\" boolean NOT NULL DEFAULT false,"
     " \"created_at\" timestamptz NOT NULL)",
     {"customer_id", "name", "email", "country", "vip", "created_at"}, 6, SZ(customers), gen_customer},
    {"shop", "products",
     "CREATE TABLE \"shop\".\"products\" (\"product_id\" integer PRIMARY KEY,"
     " \"sku\" varchar(16) NOT NULL UNIQUE, \"title\" text NOT NULL, \"price\" numeric(10,2) NOT NULL,"
     " \"stock\" integer NOT NULL, \"attributes\" jsonb, \"tags\" text[])",
     {"product_id", "sku", "title", "price", "stock", "attributes", "tags"}, 7, SZ(products), gen_product},
    {"shop", "orders",
     "CREATE TABLE \"shop\".\"orders\" (\"order_id\" bigint PRIMARY KEY, \"customer_id\" integer NOT NULL,"
     " \"status\" text NOT NULL, \"ordered_at\" timestamptz(3) NOT NULL, \"total\" numeric(12,2) NOT NULL,"
     " \"note\" text)",
     {"order_id", "customer_id", "status", "ordered_at", "total", "note"}, 6, SZ(orders), demo_gen_order},
    {"shop", "order_items",
     "CREATE TABLE \"shop\".\"order_items\" (\"order_id\" bigint NOT NULL, \"line_no\" smallint NOT NULL,"
     " \"product_id\" integer NOT NULL, \"qty\" integer NOT NULL, \"unit_price\" numeric(10,2) NOT NULL,"
     " PRIMARY KEY (\"order_id\", \"line_no\"))",
     {"order_id", "line_no", "product_id", "qty", "unit_price"}, 5, SZ(orders), gen_item},
};
const int demo_nshop_tables = (int)(sizeof demo_shop_tables / sizeof demo_shop_tables[0]);

const struct demo_table *const demo_sales_table = &demo_tickit_tables[6];
const struct demo_table *const demo_orders_table = &demo_shop_tables[2];

int64_t demo_table_rows(const struct demo_table *t, const struct demo_sizes *z)
{
    int64_t n = *(const int64_t *)(const void *)((const char *)z + t->rows_off);
    return t->gen == gen_item ? n * ITEMS_PER_ORDER : n;
}

void demo_default_sizes(struct demo_sizes *z)
{
    *z = (struct demo_sizes){
        .users = 20000, .venues = 200, .categories = 11, .dates = 366, .events = 8000,
        .listings = 50000, .sales = DEMO_TICKIT_SALES,
        .customers = 2000, .products = 500, .orders = 3000,
    };
}
