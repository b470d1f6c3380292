"""One-line messages: a list of names is cut to its first five and says how many it left out."""

from hinet_tf.utils.messages import describe_names


def test_names_past_the_fifth_are_counted_not_listed():
    names = [f"photo_{i}.png" for i in range(8)]
    assert describe_names(names) == "photo_0.png, photo_1.png, photo_2.png, photo_3.png, photo_4.png and 3 more"
    assert describe_names(iter(names[:5])) == ", ".join(names[:5])  # exactly five: nothing left out, any iterable
    assert describe_names(names, shown=2) == "photo_0.png, photo_1.png and 6 more"
