/*
 * whaco/segment.h: the WHACO customer segmentation engine.
 *
 * WHACO (Weighted Heuristic Adaptive Clustering with Outliers) places each
 * walk-in customer, online and in arrival order, in one of five named
 * segments, scores how sure it is, and flags customers whose data does not
 * look like any segment (fraud signals, inconsistent or extreme values), with
 * the features that make them stand out. Every normal customer teaches the
 * model (centroids, per-feature variances, segment shares, feature weights);
 * outliers teach it nothing, so a fraudster cannot drag a segment.
 *
 * The model is an online diagonal-Gaussian mixture fitted by hard
 * assignment: cluster k has a centroid c_k, per-feature variances s2_k and a
 * share pi_k. A customer x (see "Features" below) goes to the cluster with
 * the highest weighted log-likelihood
 *
 *     L_k(x) = log pi_k - 1/2 sum_j w_j [ (x_j - c_kj)^2 / s2_kj + log s2_kj ]
 *
 * and, if it is not an outlier, moves that cluster:
 *
 *     c_k  += alpha (x - c_k)                       (the seed's update)
 *     s2_k  = (1 - alpha_var) (s2_k + alpha_var (x - c_k_old)^2)
 *     pi    += alpha_prior (onehot(k) - pi)
 *
 * Outlier score: d = sqrt(sum_j (x_j - c_kj)^2 / s2_kj) for the assigned
 * cluster, unweighted. For a customer who truly belongs to the cluster d
 * follows (roughly) a chi distribution with 8 degrees of freedom, so the
 * default threshold is set where about 1% of normal customers exceed it (see
 * README "Outlier calibration"); the seed's fixed 3.5 would flag ~14%.
 *
 * Unknown fields (struct whaco_customer's `missing`): only customerId is
 * required. The model is marginalised over the unknown features -- their
 * terms leave L_k, d and z -- so the segment, its posterior and the
 * distance use what is known. The distance over n < 8 features is divided
 * by a measured factor (segment.c, threshold_factor) that puts it on the
 * eight-feature scale, so the one threshold keeps flagging about 1% of
 * normal customers whatever n is. `confidence` is the posterior of the
 * segment given the known features: it falls, on average, as features go
 * missing (docs/segmentation.md, "Unknown fields"). An incomplete customer
 * moves only its known coordinates, at rates scaled by the evidence it
 * carries and its posterior. A customer with no known feature is refused
 * (WHACO_E_NO_KNOWN_FEATURE).
 *
 * Memory: a struct whaco_segmenter is plain, fixed-size data owned by the
 * caller (about 43 KiB); nothing here allocates. Functions that take a const
 * segmenter only read it and may run concurrently; functions that change it
 * need the caller to serialise access. No I/O, no clock: time is an argument.
 */
#ifndef WHACO_SEGMENT_H
#define WHACO_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/serial.h"

#define WHACO_FEATURES     8   /* length of the feature vector */
#define WHACO_CLUSTERS     5   /* named segments */
#define WHACO_ID_MAX       64  /* bytes of an identifier, NUL included */
#define WHACO_ANOMALY_RING 256 /* recent anomalies kept in the state */

/* Segment ids: the cluster ids of the API. */
enum whaco_segment_id {
    WHACO_PRIME_BUYERS = 0,
    WHACO_MOTIVATED_SHOPPERS = 1,
    WHACO_TIRE_KICKERS = 2,
    WHACO_CREDIT_CHALLENGED = 3,
    WHACO_CASH_STRONG_BUYERS = 4,
};

/* Feature indices, in feature-vector order. */
enum whaco_feature {
    WHACO_F_FICO = 0,       /* (creditScore - 300) / 550                  */
    WHACO_F_INCOME = 1,     /* ln(1 + annualIncome / 10000) / ln(101)      */
    WHACO_F_PRICE = 2,      /* vehiclePrice / 100000                       */
    WHACO_F_DOWN_PCT = 3,   /* downPayment / vehiclePrice                  */
    WHACO_F_TRADE_PCT = 4,  /* tradeValue / vehiclePrice                   */
    WHACO_F_VISITS = 5,     /* visitCount / 10                             */
    WHACO_F_TIME = 6,       /* timeOnLot (minutes) / 240                   */
    WHACO_F_ENGAGEMENT = 7, /* engagement, already 0..1                    */
};

/*
 * The API's eight input fields, as bits of a customer's `missing` set. They
 * are in feature order: field bit j feeds feature j, and the two features
 * that are shares of the price (Down%, Trade%) also need vehiclePrice.
 */
enum whaco_field_flags {
    WHACO_FIELD_CREDIT_SCORE = 1u << 0,  /* creditScore */
    WHACO_FIELD_ANNUAL_INCOME = 1u << 1, /* annualIncome */
    WHACO_FIELD_VEHICLE_PRICE = 1u << 2, /* vehiclePrice */
    WHACO_FIELD_DOWN_PAYMENT = 1u << 3,  /* downPayment */
    WHACO_FIELD_TRADE_VALUE = 1u << 4,   /* tradeValue */
    WHACO_FIELD_VISIT_COUNT = 1u << 5,   /* visitCount */
    WHACO_FIELD_TIME_ON_LOT = 1u << 6,   /* timeOnLot */
    WHACO_FIELD_ENGAGEMENT = 1u << 7,    /* engagement */
};
#define WHACO_FIELDS     8     /* input fields (the bits above) */
#define WHACO_FIELDS_ALL 0xffu /* every field bit */

/*
 * One walk-in customer: the eight inputs of the API, in its units. The id is
 * carried through to the anomaly feed; it may be empty.
 *
 * Any field may be unknown (the desk learns credit and income later in the
 * visit; a web lead has no time on the lot): its bit is set in `missing` and
 * its value means nothing (0 by convention; encoders write 0). `missing` is
 * last and 0 means complete, so a zeroed or positionally initialised
 * customer is a complete one, as before unknown fields existed.
 */
struct whaco_customer {
    char id[WHACO_ID_MAX]; /* customerId, NUL-terminated, may be "" */
    double credit_score;   /* FICO score, 300..850 */
    double annual_income;  /* dollars a year, >= 0 */
    double vehicle_price;  /* dollars, > 0 */
    double down_payment;   /* dollars, 0..vehicle_price */
    double trade_value;    /* dollars, >= 0 (may exceed the price) */
    int32_t visit_count;   /* visits to the dealership, >= 0 */
    double time_on_lot;    /* minutes on the lot this visit, >= 0 */
    double engagement;     /* salesperson-rated engagement, 0..1 */
    uint32_t missing;      /* enum whaco_field_flags of the unknown fields; 0: all known */
};

/* The API name of field bit i (0..WHACO_FIELDS-1: "creditScore", ...), or "?". */
const char *whaco_field_name(int i);

/*
 * The features a customer's known fields give, as a mask (bit j: feature j,
 * enum whaco_feature): feature j is known when field j is, and Down% and
 * Trade% need vehiclePrice as well. WHACO_FIELDS_ALL for a complete customer.
 */
uint32_t whaco_features_known(const struct whaco_customer *c);

/*
 * Check every known field of a customer (unknown ones are not looked at;
 * downPayment <= vehiclePrice is checked when both are known). Returns
 * WHACO_OK, or the first error found, in field order, with *field (if field
 * is not NULL) set to the API name of the bad field ("creditScore", ...;
 * static storage):
 *   WHACO_E_NOT_FINITE          any number NaN or infinite
 *   WHACO_E_CREDIT_SCORE_RANGE  creditScore outside 300..850
 *   WHACO_E_NEGATIVE_MONEY      annualIncome, downPayment or tradeValue < 0
 *   WHACO_E_VEHICLE_PRICE       vehiclePrice <= 0
 *   WHACO_E_DOWN_EXCEEDS_PRICE  downPayment > vehiclePrice
 *   WHACO_E_NEGATIVE_COUNT      visitCount < 0
 *   WHACO_E_NEGATIVE_COUNT      timeOnLot < 0 (field "timeOnLot")
 *   WHACO_E_ENGAGEMENT_RANGE    engagement outside 0..1
 *   WHACO_E_ID_LENGTH           id not NUL-terminated within WHACO_ID_MAX
 *                               or holding control characters
 *   WHACO_E_INVAL               a `missing` bit beyond WHACO_FIELDS_ALL
 *                               (*field set to NULL)
 *   WHACO_E_NO_KNOWN_FEATURE    no feature is known (whaco_features_known
 *                               is 0: nothing, or only downPayment and
 *                               tradeValue without vehiclePrice; *field set
 *                               to NULL: no one field is to blame)
 * Nothing is clamped: extreme but possible values (an income of $5M, 900
 * minutes on the lot) are valid, and it is the outlier test's job to notice
 * them. Thread-safe.
 */
int whaco_customer_check(const struct whaco_customer *c, const char **field);

/*
 * Fill x[WHACO_FEATURES] with the customer's normalised features (see enum
 * whaco_feature). The transforms are fixed, never clipped, and chosen so that
 * typical customers land roughly in 0..1 while extreme values land far
 * outside it. An unknown feature (whaco_features_known) is set to 0 and
 * means nothing. The customer must have passed whaco_customer_check().
 */
void whaco_features(const struct whaco_customer *c, double x[WHACO_FEATURES]);

/*
 * The layouts of an encoded customer. Each record or section that holds
 * customers says which one it used (the event log's format byte, the SEGM
 * section's layout), so old bytes stay readable.
 */
enum whaco_customer_layout {
    /* str id, f64 creditScore, annualIncome, vehiclePrice, downPayment,
     * tradeValue, u32 visitCount, f64 timeOnLot, engagement: every field
     * known (written before unknown fields existed). */
    WHACO_CUSTOMER_COMPLETE = 1,
    /* str id, u8 missing (enum whaco_field_flags), then each known field,
     * in the order above, with its type above; unknown ones take no bytes. */
    WHACO_CUSTOMER_PARTIAL = 2,
};

/*
 * Append a customer to b in the portable format (whaco/serial.h), layout
 * WHACO_CUSTOMER_PARTIAL. Out of memory sets b->failed (whaco/serial.h); the
 * caller checks the buffer once it is complete.
 */
void whaco_customer_encode(const struct whaco_customer *c, struct whaco_buf *b);

/*
 * Read a customer written in `layout` (enum whaco_customer_layout; a
 * complete one has missing 0, an unknown field reads as 0). Another layout,
 * a customer that fails whaco_customer_check, or a missing set beyond the
 * eight fields, marks the reader failed (WHACO_E_STATE_CORRUPT).
 */
void whaco_customer_decode(struct whaco_customer *c, struct whaco_reader *r, int layout);

/* Short display name of feature j ("FICO", "Income", "Down%", ...). */
const char *whaco_feature_name(int j);

/* A segment's fixed profile, from the seed's description. */
struct whaco_profile {
    const char *name;        /* "Prime Buyers" */
    const char *description; /* "High credit, strong income, serious buyers" */
    const char *approach;    /* recommended sales approach */
    double priority;         /* 0.95, 0.85, 0.3, 0.6, 0.8 */
};

/* Profile of segment k (0..WHACO_CLUSTERS-1), or NULL if k is out of range. */
const struct whaco_profile *whaco_profile(int k);

/* How feature weights adapt (see README "Feature weights"). */
enum whaco_weight_rule {
    /*
     * Default. Feature-weighted k-means (Huang et al., IEEE TPAMI 27(5),
     * 2005) on globally standardised features: w_j is proportional to the
     * total variance of feature j over its pooled within-cluster variance,
     * so a feature that separates segments gains weight and a pure-noise
     * feature (same spread inside a cluster as overall) loses it.
     */
    WHACO_WEIGHTS_DISPERSION = 0,
    /*
     * The seed's rule W_j += beta |x_j - c_kj|, then W /= sum(W). Kept for
     * comparison: it raises the weight of the noisiest features.
     */
    WHACO_WEIGHTS_SEED = 1,
    /* Equal weights, never adapted. */
    WHACO_WEIGHTS_FIXED = 2,
};

struct whaco_segment_config {
    double alpha;             /* centroid learning rate, (0, 1]; 0.05 */
    double alpha_var;         /* variance learning rate, (0, 1]; 0.01 */
    double alpha_prior;       /* segment-share learning rate, (0, 1]; 0.005 */
    double beta;              /* feature-weight learning rate, [0, 1]; 0.01 */
    double outlier_threshold; /* outlier score above which a customer is an outlier; 4.75 */
    int weight_rule;          /* enum whaco_weight_rule */
};

/* Fill cfg with the defaults documented on each field. */
void whaco_segment_config_default(struct whaco_segment_config *cfg);

/*
 * Check a configuration. Returns WHACO_OK or WHACO_E_CONFIG with *field
 * naming the bad member ("alpha", "outlierThreshold", ...).
 */
int whaco_segment_config_check(const struct whaco_segment_config *cfg, const char **field);

struct whaco_cluster {
    double centroid[WHACO_FEATURES]; /* c_k, feature units */
    double variance[WHACO_FEATURES]; /* s2_k, floored per feature */
    double share;                    /* pi_k, sums to 1 over clusters */
    uint64_t size;                   /* customers learned (sizeEstimate) */
};

/* One recent anomaly, as the anomaly feed shows it. */
struct whaco_anomaly {
    int64_t timestamp_ms;            /* when it was analysed, Unix ms */
    struct whaco_customer customer;  /* the raw inputs */
    int32_t cluster_id;              /* nearest segment */
    double score;                    /* outlier score d */
    uint8_t reasons[WHACO_FEATURES]; /* feature indices, strongest first */
    uint8_t n_reasons;               /* 1..WHACO_FEATURES */
};

/* The whole engine state: plain data, safe to copy with memcpy. */
struct whaco_segmenter {
    struct whaco_segment_config cfg;
    struct whaco_cluster clusters[WHACO_CLUSTERS];
    double weights[WHACO_FEATURES];     /* w_j, mean 1 (sum WHACO_FEATURES) */
    double global_mean[WHACO_FEATURES]; /* running mean of all normal x */
    double global_var[WHACO_FEATURES];  /* running variance of all normal x */
    uint64_t processed;                 /* customers analysed (all) */
    uint64_t outliers;                  /* of which flagged */
    uint32_t ring_head;                 /* next slot to write */
    uint32_t ring_count;                /* valid entries, <= RING */
    struct whaco_anomaly ring[WHACO_ANOMALY_RING];
    /* private caches, pure functions of the fields above (so a decoded
     * state continues bit for bit like the original): */
    double log_var[WHACO_CLUSTERS][WHACO_FEATURES]; /* log(variance) */
    double inv_var[WHACO_CLUSTERS][WHACO_FEATURES]; /* 1 / variance */
    double log_share[WHACO_CLUSTERS];               /* log(share) */
};

/* What the engine says about one customer. */
struct whaco_segment_result {
    int cluster_id;                   /* assigned segment */
    bool is_outlier;                  /* outlier_score > outlier_threshold */
    double outlier_score;             /* d over the known features, on the 8-feature scale */
    double confidence;                /* posterior of cluster_id, 0..1 */
    double priority;                  /* the segment's priority */
    double posterior[WHACO_CLUSTERS]; /* P(segment k | known x), sums to 1 */
    double z[WHACO_FEATURES];         /* (x_j - c_kj) / s_kj; 0 if feature j is unknown */
    uint8_t reasons[WHACO_FEATURES];  /* outliers only: strongest first */
    uint8_t n_reasons;                /* 0 unless is_outlier */
    uint32_t missing;                 /* the customer's unknown fields (enum whaco_field_flags) */
    uint32_t known;                   /* the features used (whaco_features_known) */
};

/*
 * Initialise a segmenter with the five profile-seeded clusters. cfg may be
 * NULL for the defaults; it is copied. Returns WHACO_OK, or WHACO_E_CONFIG
 * (and *field) if cfg is invalid, leaving *s untouched.
 */
int whaco_segmenter_init(struct whaco_segmenter *s, const struct whaco_segment_config *cfg,
                         const char **field);

/*
 * Classify a customer without learning from it. Returns WHACO_OK and fills
 * *out, or a validation error (see whaco_customer_check, *field set) with
 * *out untouched. Reads *s only; thread-safe against other readers.
 */
int whaco_segment_classify(const struct whaco_segmenter *s, const struct whaco_customer *c,
                           struct whaco_segment_result *out, const char **field);

/*
 * Classify a customer and learn from it: the analyze-customer event. A
 * normal customer updates the assigned cluster (its known coordinates; an
 * incomplete customer at reduced rates, see segment.c's learn_normal), the
 * shares and the weights; an outlier only increments the counters and
 * enters the anomaly ring with timestamp now_ms (its unknown fields as 0). Returns as
 * whaco_segment_classify; on error *s is unchanged. Allocation-free. Deterministic: the same state
 * and inputs give bit-identical results.
 */
int whaco_segment_learn(struct whaco_segmenter *s, const struct whaco_customer *c, int64_t now_ms,
                        struct whaco_segment_result *out, const char **field);

/*
 * The two halves of whaco_segment_learn, for a walk-in analysed more than
 * once in one visit (a tracked floor: docs/learning.md), which teaches the
 * segmenter once:
 *
 * whaco_segment_observe classifies c; if it is an outlier and `remember`,
 * it enters the anomaly ring (the desk saw it flagged). Nothing else moves.
 *
 * whaco_segment_fit classifies c against the model as it is now, counts it
 * (and as an outlier if it is one) and, if it is not an outlier, updates
 * the clusters as whaco_segment_learn would; no ring entry. So
 * observe(c, true) then fit(c), with nothing learned between, leaves *s
 * exactly as whaco_segment_learn(c) does.
 *
 * Both return as whaco_segment_classify; on error *s is unchanged.
 */
int whaco_segment_observe(struct whaco_segmenter *s, const struct whaco_customer *c, int64_t now_ms,
                          bool remember, struct whaco_segment_result *out, const char **field);
int whaco_segment_fit(struct whaco_segmenter *s, const struct whaco_customer *c,
                      struct whaco_segment_result *out, const char **field);

/*
 * Format outlier reasons in the seed's style, strongest first:
 * "FICO significantly different | Income significantly different". Writes
 * at most cap bytes, always NUL-terminated (cap > 0); returns the length the
 * full text needs, like snprintf.
 */
size_t whaco_reason_format(const uint8_t *reasons, unsigned n, char *buf, size_t cap);

/*
 * The i-th most recent anomaly (i = 0 is the newest), or NULL if
 * i >= s->ring_count. The pointer borrows from *s.
 */
const struct whaco_anomaly *whaco_segment_anomaly(const struct whaco_segmenter *s, unsigned i);

/*
 * Append the segmenter as a WHACO_TAG_SEGMENT section payload (whaco/serial.h)
 * to b, in layout 2 (a layout mark first; its ring's customers in layout
 * WHACO_CUSTOMER_PARTIAL). Equal states give identical bytes. Out of memory
 * sets b->failed.
 */
void whaco_segmenter_encode(const struct whaco_segmenter *s, struct whaco_buf *b);

/*
 * Decode a section payload written by whaco_segmenter_encode into *s, in
 * layout 2 or in layout 1 (no mark, complete customers: before unknown
 * fields).
 * Every value is checked (finite, in range, counts consistent); returns
 * WHACO_OK, or WHACO_E_STATE_CORRUPT leaving *s untouched.
 */
int whaco_segmenter_decode(struct whaco_segmenter *s, struct whaco_reader *r);

#endif /* WHACO_SEGMENT_H */
