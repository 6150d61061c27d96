from tests.ui.test_login import *
def test_zzq(empty_home):
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    print("T1", [t.value for t in at.title])
    at.button(key="first_submit").click().run()
    print("T2", [t.value for t in at.title], [e.value for e in at.error])
    at.run()
    print("T3", [t.value for t in at.title], [e.value for e in at.error])
    assert 0
