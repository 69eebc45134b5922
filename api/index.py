# Vercel builds each .py file under api/ into a function; this one serves every /api/* route (see vercel.json).
from functions.vercel import app  # noqa: F401
