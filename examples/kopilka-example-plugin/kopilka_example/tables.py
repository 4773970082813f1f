from piccolo.columns import Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Tip(Table, tablename="example_tips"):
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow())
