"""Ratings: pairwise votes, rater trust, leaderboard (see the ratings issue)."""
