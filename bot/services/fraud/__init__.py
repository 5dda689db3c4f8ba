"""Anti-fraud: signals that flag a referrer, holds on what a flagged referrer earns, and the review.

signals.py raises flags (velocity, burst, idle referees behind a tier bonus, fake referees);
holds.py says which flag holds a new earning; review.py is what an admin decides; listing.py is
what the platform's risk team reads.
"""
