"""The database's errors, named for what they mean to a request (`api.problems` answers each).

Only storage imports the driver; the rest of the API knows these names.
"""

from bson.errors import InvalidDocument as NotStorable
from pymongo.errors import ConnectionFailure as Unreachable
from pymongo.errors import DocumentTooLarge as TooLarge
from pymongo.errors import OperationFailure as Refused
from pymongo.errors import PyMongoError as DatabaseError

__all__ = ["DatabaseError", "NotStorable", "Refused", "TooLarge", "Unreachable"]
