"""Routing: new cases go to an available agent (round robin or least loaded), agents away."""
