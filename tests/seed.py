"""A seeded data set whose counts are known by hand: six months, two touchpoints, an empty May."""

# (month, touchpoint, scores, comment) — every response answered on the 10th of its month at noon UTC
SEED = [
    ("2026-03", "support", [10, 10, 9, 8, 3], None),
    ("2026-03", "onboarding", [9, 7, 6], None),
    ("2026-04", "support", [10, 9, 9, 9, 2, 1], None),
    ("2026-04", "onboarding", [10, 8], None),
    # 2026-05: nobody answered
    ("2026-06", "support", [0, 1, 2, 3, 4, 5], "Der Support war langsam und teuer, schreiben Sie an max@example.com"),
    ("2026-06", "onboarding", [7, 9], None),
    ("2026-07", "onboarding", [10] * 10, "great onboarding"),
    ("2026-07", "support", [6, 6], "Der Support war langsam und teuer"),
    ("2026-08", "support", [9, 9, 9, 8, 8, 6], None),
]

# By hand, overall: (promoters, passives, detractors) per month
BY_HAND = {
    "2026-03": (4, 2, 2),
    "2026-04": (5, 1, 2),
    "2026-05": (0, 0, 0),
    "2026-06": (1, 1, 6),
    "2026-07": (10, 0, 2),
    "2026-08": (3, 2, 1),
}


def seed_payloads():
    """The generic JSON of every seeded response."""
    out = []
    for month, touchpoint, scores, comment in SEED:
        for i, score in enumerate(scores):
            payload = {"response_id": f"{month}-{touchpoint}-{i}", "score": score, "touchpoint": touchpoint,
                       "email": f"r{i}@{touchpoint}.example", "responded_at": f"{month}-10T12:00:00Z"}  # fmt: skip
            if comment:
                payload["comment"] = comment
            out.append(payload)
    return out


def margin_by_hand(p, pa, d):
    """1.96 × 100 × sqrt(((p + d) − (p − d)²) / n), written out again here on purpose."""
    n = p + pa + d
    share_p, share_d = p / n, d / n
    return 1.96 * 100 * (((share_p + share_d) - (share_p - share_d) ** 2) / n) ** 0.5
