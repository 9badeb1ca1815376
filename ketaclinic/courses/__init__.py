"""Treatment courses: protocols as versioned data, courses, dose orders, chairs and the schedule."""
